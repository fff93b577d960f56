"""MQTT adapter: JSON device messages through a broker (Mosquitto or any MQTT 3.1.1/5)."""
