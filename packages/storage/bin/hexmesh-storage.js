#!/usr/bin/env node
// Runs the compiled CLI (npm run build compiles src/ to dist/).
import "../dist/cli.js";
