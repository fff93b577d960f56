"""Digital pre-incident plans (数字化灭火救援预案): authored, reviewed, versioned, live."""
