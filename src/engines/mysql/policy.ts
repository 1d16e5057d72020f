// Which client commands jitgate answers itself instead of forwarding (DESIGN §3): user switching and replication
// are refused, COM_INIT_DB may only name the resource's database, and under `audit.on_failure: block` no statement
// runs while the audit trail cannot record it.
import type { ClientCommand } from '../../../protocols/mysql/client-commands.js';
import { Command } from '../../../protocols/mysql/constants.js';
import { mysqlError } from '../../../protocols/mysql/server-errors.js';
import type { ErrFields } from '../../../protocols/mysql/server-results.js';
import type { ResourceConfig } from '../../config/schema.js';

export interface CommandRefusal {
  /** The ERR that answers the command in its place. */
  readonly fields: ErrFields;
  /** Refused by policy (recorded as `policy.blocked`), not because the audit trail is failing. */
  readonly byPolicy: boolean;
}

/** The gated commands whose body can fail to decode (COM_STMT_PREPARE's always decodes). */
const STATEMENT_COMMANDS: ReadonlySet<number> = new Set([Command.COM_QUERY, Command.COM_STMT_EXECUTE]);

const byPolicy = (fields: ErrFields): CommandRefusal => ({ fields, byPolicy: true });

export function commandRefusal(command: ClientCommand, resource: ResourceConfig, grant: string, auditAccepting: () => boolean): CommandRefusal | undefined {
  switch (command.type) {
    case 'change_user': return byPolicy(mysqlError.notSupported('COM_CHANGE_USER'));
    case 'binlog_dump':
    case 'binlog_dump_gtid':
    case 'register_slave': return byPolicy(mysqlError.notSupported('replication'));
    case 'init_db':
      return command.database === resource.database ? undefined : byPolicy(mysqlError.dbAccessDenied(grant, command.database));
    case 'query':
    case 'stmt_prepare':
    case 'stmt_execute':
      return auditAccepting() ? undefined : { fields: mysqlError.auditUnavailable(), byPolicy: false };
    case 'undecodable':
      // Still a statement to the server, so the audit gate applies; nothing else a policy refuses can fail to decode.
      return !STATEMENT_COMMANDS.has(command.command) || auditAccepting() ? undefined : { fields: mysqlError.auditUnavailable(), byPolicy: false };
    default:
      return undefined;
  }
}
