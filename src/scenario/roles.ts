/**
 * How scenarios name hosts: a node by its name in the topology, or a role resolved when a fault is
 * injected (master: the VIP holder, backup: the other node), and the two other lab hosts. No node may be
 * named by a role word, or scenarios could not tell them apart.
 */
export const NODE_ROLES = ['master', 'backup'] as const;
export const OTHER_HOSTS = ['client', 'lanhost'] as const;
export const ROLE_WORDS = [...NODE_ROLES, ...OTHER_HOSTS, 'original', 'other', 'all'] as const;
/** a node's name: lowercase letters, digits and dashes, starting with a letter */
export const NODE_NAME = /^[a-z][a-z0-9-]{0,30}$/;
