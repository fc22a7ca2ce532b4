// The prefix of the line on which a part script (common.js finish()) prints its results as JSON,
// for run.js to put into gpu-check.json. Its own file: run.js must not load common.js, which loads
// the addon.
'use strict';

module.exports = { RESULTS_MARKER: 'gpu-check-results: ' };
