// The MySQL reset of a server connection before it is parked (src/net/server-pool.ts): COM_RESET_CONNECTION, which
// rolls back, drops temporary tables, prepared statements, user variables and locks and returns session variables to
// their global values without a new login, then a USE back to the resource's database, since the reset keeps whatever
// database the last client had chosen. Both go in one write; the server answers them in order. The USE carries a
// comment so that a DBA reading the general log or the processlist sees where one client's session ended (MariaDB
// does not log COM_RESET_CONNECTION itself).
import { Command } from '../../../protocols/mysql/constants.js';
import { encodePacket, PacketFramer } from '../../../protocols/mysql/packet-framer.js';
import { resetExchange } from '../../net/server-pool.js';
import type { MysqlUpstreamSession } from './upstream.js';

const RESET_TIMEOUT_MS = 2_000;
const OK_HEADER = 0x00;
const RESET_COMMENT = '/* jitgate: server connection reset for reuse */';

const quoteIdentifier = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

/** The reset session, with the reset's OK as the login OK the next client is sent; undefined when it failed. */
export function resetMysqlServer(upstream: MysqlUpstreamSession): Promise<MysqlUpstreamSession | undefined> {
  const replies: Buffer[] = [];
  let clean = true;
  const framer = new PacketFramer((sequenceId, payload, payloadLength) => {
    // Each command's answer is one packet at sequence 1; anything else (an ERR, a third packet) is not clean.
    if (replies.length >= 2 || sequenceId !== 1 || payload[0] !== OK_HEADER || payload.length !== payloadLength) clean = false;
    replies.push(Buffer.from(payload));
  }, { maxPayloadBytes: 1 << 16, retainBytes: 1 << 16 });
  const request = Buffer.concat([
    encodePacket(0, Buffer.from([Command.COM_RESET_CONNECTION])),
    encodePacket(0, Buffer.concat([Buffer.from([Command.COM_QUERY]), Buffer.from(`${RESET_COMMENT} USE ${quoteIdentifier(upstream.database)}`, 'utf8')])),
  ]);
  return resetExchange(upstream.socket, request, RESET_TIMEOUT_MS, (chunk) => {
    try {
      framer.push(chunk);
    } catch {
      clean = false;
    }
    const [resetOk] = replies;
    if (!clean) return { result: undefined };
    return replies.length === 2 && framer.isIdle && resetOk !== undefined ? { result: { ...upstream, okPayload: resetOk } } : undefined;
  });
}
