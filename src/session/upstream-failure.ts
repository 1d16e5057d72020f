// How a wire engine's upstream login fails, as the session core needs to know it: whether the database refused the
// lease user itself (re-issue the lease once, DESIGN §4/§10) — the rest (the server's own answer, its codes) is the
// protocol's to say to its client.
export abstract class UpstreamFailure extends Error {
  /** The database no longer takes the lease user (dropped or changed behind jitgate's back): a new lease may work. */
  abstract get rejectsLease(): boolean;
}
