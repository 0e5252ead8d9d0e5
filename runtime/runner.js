'use strict';
// Pyth-On JavaScript runner. Runs as `node /opt/pyth-on/runner.js` under docker-init in a single-use
// sandbox. Node's start-up is the expensive part, so this process starts ahead of time (warm pool),
// blocks until ONE job arrives on stdin, then becomes the program: the code runs as the main module
// of this already-started node, with `node /work/main.js ARGS` semantics. Protocol: README.md.
const fs = require('fs');
const path = require('path');
const childProcess = require('child_process');
const Module = require('module');

const WORK = '/work';
const PACKAGES = '/packages';
const STORE_ID = /^js-[0-9a-f]{40}$/;
const BASE_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: WORK };
const ZK_FAILED_EXIT = 3;
const pause = new Int32Array(new SharedArrayBuffer(4));

// Exact reads from fd 0, so no byte of the user's stdin is consumed by the runner.
function readInto(buf, off, len) {
  for (;;) {
    try {
      return fs.readSync(0, buf, off, len, null);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 5); // non-blocking pipe: wait a little, no busy loop
    }
  }
}

function readExact(n) {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const r = readInto(buf, got, n - got);
    if (r === 0) throw new Error('stdin closed before the job was complete');
    got += r;
  }
  return buf;
}

function readHeader() {
  const one = Buffer.alloc(1);
  let line = '';
  for (;;) {
    if (readInto(one, 0, 1) === 0) throw new Error('stdin closed before a job header');
    const c = one.toString('latin1');
    if (c === '\n') break;
    line += c;
    if (line.length > 64) throw new Error('job header too long');
  }
  const [jobLen, zkLen, endLen = 0] = line.trim().split(/\s+/).map(Number);
  return { jobLen, zkLen, endLen };
}

// Decrypts in a separate fresh process; the password bytes are zeroed here and never become a JS string.
function decryptZk(zk) {
  const res = childProcess.spawnSync('/usr/bin/python3', ['-I', path.join(__dirname, 'zk_decrypt.py')],
    { input: zk, stdio: ['pipe', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
  zk.fill(0);
  return res.status === 0 ? res.stdout.toString('utf8') : null;
}

function receiveJob() {
  const { jobLen, zkLen, endLen } = readHeader();
  const jobBuf = readExact(jobLen);
  const job = JSON.parse(jobBuf.toString('utf8'));
  jobBuf.fill(0);
  let code = job.code || '';
  if (zkLen > 0) {
    code = decryptZk(readExact(zkLen));
    // First stdout line tells the agent how decryption went; the program has not started yet.
    fs.writeSync(1, code !== null ? '\0pyth-on-zk ok\n' : '\0pyth-on-zk failed\n');
    if (code === null) process.exit(ZK_FAILED_EXIT);
  }
  // The end key (README.md) comes last, so the program's stdin starts right after it.
  let endToken = null;
  if (endLen > 0) {
    const key = readExact(endLen);
    endToken = Buffer.from(`\0pyth-on-end ${key.toString('hex')} `, 'latin1');
    key.fill(0);
  }
  const stores = (job.package_stores || []).map(String);
  if (!stores.every((s) => STORE_ID.test(s))) throw new Error('invalid package store id');
  return { code, args: (job.args || []).map(String), env: job.env || {}, stores, endToken };
}

// The stores' node_modules go on NODE_PATH (require() looks there after /work/node_modules), their .bin on PATH.
// NODE_PATH is read when the module system starts, so the lookup paths are rebuilt from it here.
function usePackageStores(stores) {
  if (stores.length === 0) return;
  const dirs = stores.map((s) => path.join(PACKAGES, s, 'node_modules'));
  const own = process.env.NODE_PATH ? [process.env.NODE_PATH] : [];
  process.env.NODE_PATH = dirs.concat(own).join(path.delimiter);
  process.env.PATH = dirs.map((d) => path.join(d, '.bin')).concat([process.env.PATH]).join(path.delimiter);
  Module._initPaths();
}

// Writes the end marker (README.md) once the program has ended normally, after every 'exit' listener (the
// program's own ones print too), so the agent need not wait for the container to wind down. Node emits 'exit'
// before it prints an uncaught exception: then no marker, and the agent waits for the streams to close.
function reportEnd(endToken) {
  if (endToken === null) return;
  const emit = process.emit;
  let fatal = false;
  process.emit = function emitThenReportEnd(event, ...rest) {
    const handled = emit.call(this, event, ...rest);
    if (event === 'uncaughtException' && !handled) fatal = true;
    if (event === 'exit' && !fatal) {
      const code = process.exitCode || 0; // what node exits with once the listeners have run
      if (Number.isInteger(code) && code >= 0 && code < 128) {
        const marker = Buffer.concat([endToken, Buffer.from(`${code}\n`, 'latin1')]);
        try {
          fs.writeSync(2, marker);
          fs.writeSync(1, marker);
        } catch {
          // a program that closed its streams gets the slow path
        }
      }
    }
    return handled;
  };
}

function becomeProgram({ code, args, env, stores, endToken }) {
  const file = path.join(WORK, 'main.js');
  fs.writeFileSync(file, code, { mode: 0o600 });
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, BASE_ENV);
  for (const [k, v] of Object.entries(env)) process.env[k] = String(v);
  usePackageStores(stores);
  process.chdir(WORK);
  process.argv = [process.execPath, file, ...args];
  reportEnd(endToken);
  Module.runMain(file);
}

// Tells the agent this runner is booted and blocked on its job: only then does the warm pool count it.
fs.writeSync(1, '\0pyth-on-ready\n');
becomeProgram(receiveJob());
