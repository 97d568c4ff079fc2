/** Where the failure converter lives, for the data converter and the workflow bundler (which load it by path). */
export const FAILURE_CONVERTER_PATH = require.resolve('./failureConverter');
