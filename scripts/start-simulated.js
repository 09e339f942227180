#!/usr/bin/env node
// `npm start`: the development server with the simulated WeChat. The server itself refuses to
// start without an explicit WX_MODE (it must never fall back to a simulator in production);
// this is the place that makes the development choice, unless WX_MODE is already set.
'use strict';
const { buildServer } = require('./build-server');

process.env.WX_MODE = process.env.WX_MODE || 'simulated';
process.setSourceMapsEnabled(true);
require(buildServer());
