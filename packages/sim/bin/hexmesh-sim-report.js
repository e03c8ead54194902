#!/usr/bin/env node
// Runs the compiled report command (npm run build compiles src/ to dist/).
import "../dist/cli.js";
