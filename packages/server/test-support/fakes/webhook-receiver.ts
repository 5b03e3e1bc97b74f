import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pollUntil } from '../api/batches.js';

/** How the receiver answers one request: a status, a dropped connection, or no answer until released. */
export type Answer = number | 'drop' | 'hold';

export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  /** What it was answered with. */
  answer: Answer;
}

/** Decides the answer to the `index`-th request (0-based), which carries `headers`. */
export type Script = (index: number, headers: Record<string, string>) => Answer;

/** A webhook receiver on loopback answering as its script says; held requests wait until `release()` answers them. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly held: ServerResponse[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(script: Script = () => 200): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((request, response) => void receiver!.handle(request, response, script));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`);
    return receiver;
  }

  private async handle(request: IncomingMessage, response: ServerResponse, script: Script): Promise<void> {
    let body = '';
    for await (const chunk of request) body += chunk;
    const headers = Object.fromEntries(Object.entries(request.headers).map(([key, value]) => [key, String(value)]));
    const answer = script(this.received.length, headers);
    this.received.push({ headers, body, answer });
    if (answer === 'drop') request.socket.destroy();
    else if (answer === 'hold') this.held.push(response);
    else response.writeHead(answer).end();
  }

  /** Requests held and not yet answered (nor given up by the sender). */
  get open(): number {
    return this.held.filter((response) => !response.destroyed && !response.writableEnded).length;
  }

  /** Answers every held request with `status`. */
  release(status = 200): void {
    for (const response of this.held.splice(0)) if (!response.destroyed) response.writeHead(status).end();
  }

  async waitForRequests(count: number, what = `${count} webhook requests`): Promise<ReceivedWebhook[]> {
    await pollUntil(async () => this.received.length, (n) => n >= count, { what, timeoutMs: 30_000 });
    return this.received;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
