#!/usr/bin/env node
// The `batchd` command. This file is committed, so npm links it on install before the build has made `dist/`.
import '../dist/main.js';
