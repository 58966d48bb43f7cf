// Jest's module runtime cannot require() an ESM-only package; Node 20.20 itself can. This file
// stands in for `content-disposition` (ESM-only, pulled in by @fastify/static for Swagger UI)
// and hands the real module over from Node's own loader. It is a pure string function, so
// living in Node's realm rather than the test's is harmless.
const { createRequire } = require('node:module');
const { join } = require('node:path');

const fromPackage = createRequire(join(process.cwd(), 'package.json'));
const fastifyStatic = fromPackage.resolve('@fastify/static');
module.exports = createRequire(fastifyStatic)('content-disposition');
