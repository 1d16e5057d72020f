// `npm run bench`: the side-by-side harness (direct / pgbouncer / haproxy / jitgate) arrives with the wire
// engines (issues 5, 6 and 9). Until then there is nothing on the relay path to measure.
console.log('no benchmarks yet: the Postgres and MySQL wire engines are not built (see issues 5, 6, 9)');
