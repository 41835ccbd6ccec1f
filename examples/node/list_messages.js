#!/usr/bin/env node
// Lists a case's messages through osm-grpc-adapter: every message with its
// message_id (ListCaseMessages), then the case page by page (ListMessages,
// PAGE_SIZE messages a page, default 10, following next_offset).
// Usage: npm ci; OSM_AUTH_TOKEN=... node list_messages.js HOST:PORT CASE_ID [PAGE_SIZE]
// Exit status: the gRPC status code.
'use strict';
const {promisify} = require('node:util');
const {client, metadata, printError, sender} = require('./osm_example');

const [target, caseId, pageSize = '10'] = process.argv.slice(2);
const service = client(target);
const call = (method, request) => promisify(service[method].bind(service))(
    request, metadata(), {deadline: Date.now() + 10000});

(async () => {
  const listed = await call('ListCaseMessages', {case_id: caseId});
  console.log(`ListCaseMessages ${caseId}: ${listed.messages.length} messages, ` +
              `request_id ${listed.request_id}`);
  for (const m of listed.messages) {
    console.log(`  ${m.message_id} [${sender(m)} ${m.create_time}] ${m.content}`);
  }
  for (let offset = 0; ;) {
    const page = await call('ListMessages',
                            {case_id: caseId, offset, limit: Number(pageSize)});
    console.log(`ListMessages ${caseId} offset ${offset}: ${page.messages.length} of ` +
                `${page.total_count}, next_offset ${page.next_offset}`);
    for (const m of page.messages) console.log(`  [${sender(m)} ${m.create_time}] ${m.content}`);
    if (page.next_offset === 0) break;
    offset = page.next_offset;
  }
})().catch((error) => {
  process.exitCode = printError(error);
}).finally(() => service.close());
