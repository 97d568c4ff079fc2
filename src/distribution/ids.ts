/**
 * The ID of a catalog document (campaign, supplier, buyer) and of a request template. No imports,
 * so the tenant schema can check template IDs without loading the distribution model.
 */
export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const ID_MESSAGE = 'must be 1-64 characters: lower-case letters, digits, "-" and "_", starting with a letter or digit';
