/**
 * The requests an HTTP server received on one path, and those it refused with a finished answer other
 * than the expected status: the server's side of the durability check. The load generator cannot
 * tell it, as it hangs up at the end with requests in flight, whose handlers still run to the end.
 */
import type { Server } from 'node:http';

export class RequestTally {
  /** Requests received on the path. */
  received = 0;
  /** Requests on the path answered, to the end, with another status than the expected one. */
  refused = 0;

  /** Counts the requests to `server` on `path` (the query string aside) from now on; `accepted`: the expected status. */
  constructor(args: { server: Server; path: string; accepted: number }) {
    args.server.on('request', (request, response) => {
      if ((request.url ?? '').split('?')[0] !== args.path) return;
      this.received++;
      response.once('finish', () => {
        if (response.statusCode !== args.accepted) this.refused++;
      });
    });
  }
}
