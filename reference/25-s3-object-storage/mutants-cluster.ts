// The mutants of the cluster variant (manifest.cluster.json: the API service and three data nodes; SOS-F6), a part
// of mutants.ts's list: each is started from that manifest.
const CLUSTER_MANIFEST = new URL('./manifest.cluster.json', import.meta.url).pathname;

export const CLUSTER_MUTANTS = [
  {
    name: 'replica-acked-early',
    breaks: 'SOS-F6',
    description:
      'the primary data node answers once its own copy is written, counting every secondary as holding it, and copies to them a second later: a primary killed in between loses acknowledged objects',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'read-no-failover',
    breaks: 'SOS-F6',
    description:
      "a GET asks only the object's primary data node, up or not: with that node killed its objects answer 503, though two copies are up",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'missed-copies-not-recorded',
    breaks: 'SOS-F6',
    description:
      'the writes a data node was down for are not recorded as copies owed to it: back up, it is never sent them (only a GET it happens to answer first repairs one), so it alone cannot serve them',
    manifest: CLUSTER_MANIFEST,
  },
] as const satisfies readonly { name: string; breaks: string; description: string; manifest: string }[];
