#!/usr/bin/env node
// The `logship` command. It sizes libuv's thread pool, then runs dist/main.js.
//
// Every file write, fsync and open runs in that pool. A write cycle of the file destination appends
// to all its files at once, each append synced (O_DSYNC) and, for runs of repeated headers, preceded
// by their line copies in the same thread (src/destinations/file/line-runs.ts). With libuv's default
// of 4 threads, a cycle's 8 appends went in two waves. S4 with fsync, alternating rounds: 4 → 8
// threads +3.7 % (12 of 12 rounds faster), 8 → 16 +3 % (8 of 12); S4 without fsync and S1 were
// unchanged (docs/decisions/0005-one-thread-per-process.md).
//
// libuv reads UV_THREADPOOL_SIZE once, when the pool starts at its first job. For an ES module entry
// that job is the loader reading the entry file, before any of its code runs. So this entry is
// CommonJS (read synchronously) and sets the variable first. A value already set is kept.
'use strict';

process.env.UV_THREADPOOL_SIZE ??= '16';
import(require('node:url').pathToFileURL(require('node:path').join(__dirname, '..', 'dist', 'main.js')).href).catch((err) => {
  process.stderr.write(`logship: cannot start: ${err && err.stack ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
