// Powertools in tests: no X-Ray daemon here, and no EMF noise unless a test asks for it.
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.POWERTOOLS_DEV = process.env.POWERTOOLS_DEV ?? 'true';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR';
