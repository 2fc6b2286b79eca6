/** The part of s3rver 3.7's API test/support/local-s3-server.ts uses (the package ships no types). */
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  import type { Server } from 'node:http';

  interface S3rverOptions {
    /** Host to listen on (default 'localhost'). */
    address?: string;
    /** 0 picks a free port. */
    port?: number;
    /** No request log on stdout. */
    silent?: boolean;
    /** Where buckets and objects are kept on disk. */
    directory?: string;
    /** Removes every bucket when the server closes. */
    resetOnClose?: boolean;
    /** Accept any signature (dummy credentials sign with any secret). */
    allowMismatchedSignatures?: boolean;
    /** Bucket names from the Host header; off for path-style requests only. */
    vhostBuckets?: boolean;
    configureBuckets?: Array<{ name: string; configs?: Array<string | Buffer> }>;
  }

  class S3rver {
    constructor(options?: S3rverOptions);
    /** Creates the configured buckets, listens; resolves with the bound address. */
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    httpServer?: Server;
  }

  export default S3rver;
}
