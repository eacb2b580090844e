#!/usr/bin/env node
// The published CLI lives in dist/ (built by tsup); this launcher exists in the source tree so
// that workspace installs can link the bin before anything is built.
import '../dist/cli.js';
