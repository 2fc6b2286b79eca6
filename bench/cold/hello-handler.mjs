// The hello-world baseline: a Lambda handler module with nothing in it, run by the same
// child runner as the real bundle, so the difference between them is our INIT.
export const handler = async () => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'hello' });
