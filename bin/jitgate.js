#!/usr/bin/env node
// Entry point for the installed `jitgate` command; the CLI itself is compiled to dist/.
import '../dist/src/cli/index.js';
