// The mutants of the cluster variant (manifest.cluster.json: the API service and three data nodes; SOS-F6), a part
// of mutants.ts's list: each is started from that manifest (MUTANT reaches the API service and the data nodes alike).
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
  {
    name: 'owed-copies-in-memory',
    breaks: 'SOS-F6',
    description:
      "the copies and deletes owed to a data node that missed them are kept in the API service's memory only: restarted while the node is down, the API forgets them, and the node back never gets the objects written meanwhile",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'missed-delete-forgotten',
    breaks: 'SOS-F6',
    description:
      'a delete is sent to the nodes of the replica group once and never recorded: a node down at the time keeps the deleted object as a live copy for good (compaction keeps its bytes)',
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'replica-checksum-not-verified',
    breaks: 'SOS-F2',
    description:
      "a data node serves its copy without checking the CRC-32 it stored it under (the API's check of the bytes on the wire passes, against a CRC-32 taken of the flipped bytes): a flipped bit is served",
    manifest: CLUSTER_MANIFEST,
  },
  {
    name: 'repair-keeps-held-copy',
    breaks: 'SOS-F2',
    description:
      'a data node asked to store a copy it already holds keeps its own, a repair included: a corrupt copy is never replaced, so that node alone answers the object 500 for good',
    manifest: CLUSTER_MANIFEST,
  },
] as const satisfies readonly { name: string; breaks: string; description: string; manifest: string }[];
