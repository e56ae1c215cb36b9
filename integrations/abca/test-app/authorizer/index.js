// The test app's stand-in for ABCA's bundled api-key-authorizer.ts: a code asset the synthesis test can see
// copied. It is never deployed or invoked; if it were, it would let nobody in.
exports.handler = async (event) => ({
  principalId: 'anonymous',
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: event.methodArn }],
  },
});
