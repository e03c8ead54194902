import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// A static app: relative asset paths (any host, any folder), routes in the URL's fragment.
export default defineConfig({
  base: "./",
  plugins: [react()],
  worker: { format: "es" },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 2_000 },
});
