// Powertools in tests: no X-Ray daemon here, and no EMF noise unless a test asks for it.
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.POWERTOOLS_DEV = process.env.POWERTOOLS_DEV ?? 'true';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR';
// Property tests run a fixed sequence of cases so CI is repeatable; FC_SEED=<n> explores others
// (a failure prints its seed and path to replay).
require('fast-check').configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261126) });
