'use strict';
// Pyth-On JavaScript runner. Started as `node /opt/pyth-on/runner.js` inside a fresh run sandbox before its
// job exists (node's start-up is the expensive part), it blocks until the job arrives on fd 3, then becomes
// the program: the code runs as the main module of this already-started node, with `node /work/main.js ARGS`
// semantics. The supervisor reads the program's output pipes and its exit status itself: nothing this process
// prints is trusted. Protocol: README.md.
const fs = require('fs');
const path = require('path');
const Module = require('module');

const WORK = '/work';
const PACKAGES = '/packages';
const STORE_ID = /^js-[0-9a-f]{40}$/;
const BASE_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: WORK };
const JOB_FD = 3;   // the job, from the run sandbox's init, until end-of-file
const READY_FD = 4; // one byte to the init once node is booted

// The job as init passes it on (runtime/init.c): "-" or the length of the decrypted code on the first line, that
// code, then the job JSON.
function readJob(data) {
  const lineEnd = data.indexOf(0x0a);
  const head = data.subarray(0, lineEnd).toString('latin1');
  if (head === '-') return JSON.parse(data.subarray(lineEnd + 1).toString('utf8'));
  const codeEnd = lineEnd + 1 + Number(head);
  const job = JSON.parse(data.subarray(codeEnd).toString('utf8'));
  job.code = data.subarray(lineEnd + 1, codeEnd).toString('utf8');
  return job;
}

function receiveJob() {
  const job = readJob(fs.readFileSync(JOB_FD));
  fs.closeSync(JOB_FD);
  const stores = (job.package_stores || []).map(String);
  if (!stores.every((s) => STORE_ID.test(s))) throw new Error('invalid package store id');
  return { code: String(job.code || ''), args: (job.args || []).map(String), env: job.env || {}, stores };
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

function becomeProgram({ code, args, env, stores }) {
  const file = path.join(WORK, 'main.js');
  fs.writeFileSync(file, code, { mode: 0o600 });
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, BASE_ENV);
  for (const [k, v] of Object.entries(env)) process.env[k] = String(v);
  usePackageStores(stores);
  process.chdir(WORK);
  process.argv = [process.execPath, file, ...args];
  Module.runMain(file);
}

// Node creates process.stdout on first use (for a pipe a net.Socket, which loads the stream and net modules):
// created here, before the job, a program's first console.log does not pay for it on the run's clock (5 ms of job to
// first output on a 2-core VM). Not stderr: most programs never write to it, and each stream costs CPU.
void process.stdout;

// Tells the run sandbox's init that node is booted and blocked on its job: only then is the slot ready.
fs.writeSync(READY_FD, 'r');
fs.closeSync(READY_FD);
becomeProgram(receiveJob());
