import { defineConfig } from "vitest/config";
import { shellWorker } from "./shell/plugin.ts";

// The built console is committed inside the Python package, so `make demo` needs no npm.
export default defineConfig({
  base: "/",
  // the offline shell's service worker (/sw.js), written for this build's files
  plugins: [shellWorker()],
  build: {
    outDir: "../src/firegrid/web/static",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    port: 5173,
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", changeOrigin: false },
      "/console-config.js": { target: "http://127.0.0.1:8000" },
    },
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
});
