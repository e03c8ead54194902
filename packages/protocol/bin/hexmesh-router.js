#!/usr/bin/env node
// Runs the compiled router CLI (npm run build compiles src/ to dist/).
import "../dist/node/router-cli.js";
