// A fake build output for the offline shell's tests: the page, an entry script, a lazily
// loaded view, a stylesheet (bytes) and the files the shell must not list.
import type { Bundle, BundleFile } from "../shell/plugin";

export function chunk(fileName: string, code: string): BundleFile {
  return { type: "chunk", fileName, code };
}

export function asset(fileName: string, source: string | Uint8Array): BundleFile {
  return { type: "asset", fileName, source };
}

export function bundleOf(...files: BundleFile[]): Bundle {
  return Object.fromEntries(files.map((file) => [file.fileName, file]));
}

export const PAGE = asset("index.html", '<!doctype html><script type="module" src="/assets/index-Ab12Cd34.js"></script>');
export const ENTRY = chunk("assets/index-Ab12Cd34.js", 'import("./rounds-Ef56Gh78.js");');
export const VIEW = chunk("assets/rounds-Ef56Gh78.js", "export const rounds = 1;");
export const STYLE = asset("assets/index-Ij90Kl12.css", new TextEncoder().encode("body{margin:0}"));

/** The URLs of the four files above, as the worker must list them. */
export const LISTED = ["/", "/assets/index-Ab12Cd34.js", "/assets/index-Ij90Kl12.css", "/assets/rounds-Ef56Gh78.js"];

export function fakeBundle(): Bundle {
  return bundleOf(
    PAGE,
    ENTRY,
    VIEW,
    STYLE,
    asset("assets/index-Ab12Cd34.js.map", "{}"),
    asset(".vite/manifest.json", "{}"),
    asset("sw.js", "// an older worker"),
  );
}
