// What list_messages.js and watch.js share (withdraw.js, shown whole in the
// README, has its own copy): the client, the token, and the error printed
// with its status details as withdraw.js prints it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const includeDirs = [process.env.OSM_PROTO_DIR || path.join(__dirname, '../../proto'),
  process.env.GOOGLEAPIS_DIR || '/usr/share/gocode/src/github.com/gogo/googleapis'];
// defaults: a field OSM left unset reads as 0 or "" (a next_offset of 0, a
// customer's type 0), as in the other languages.
const definition = protoLoader.loadSync('huaweicloud/osm/v2/message_service.proto',
                                        {includeDirs, keepCase: true, defaults: true});
const {MessageService} = grpc.loadPackageDefinition(definition).huaweicloud.osm.v2;
// The types of the google.rpc.Status in the trailer grpc-status-details-bin.
const rpc = new protobuf.Root();
rpc.resolvePath = (origin, file) =>
  includeDirs.map((dir) => path.join(dir, file)).find((f) => fs.existsSync(f)) || file;
rpc.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], {keepCase: true});
const decode = (type, bytes) => rpc.lookupType(type).decode(bytes || Buffer.alloc(0));

exports.client = (target) => new MessageService(target, grpc.credentials.createInsecure());

// The IAM token from OSM_AUTH_TOKEN, sent as x-auth-token.
exports.metadata = () => {
  const metadata = new grpc.Metadata();
  if (process.env.OSM_AUTH_TOKEN) metadata.set('x-auth-token', process.env.OSM_AUTH_TOKEN);
  return metadata;
};

exports.sender = (message) => (message.type === 1 ? 'support' : 'customer');

// Prints the status and its details; returns the exit status, the gRPC code.
exports.printError = (error) => {
  console.log(`code: ${grpc.status[error.code]}\nmessage: ${error.details}`);
  const [bytes] = error.metadata ? error.metadata.get('grpc-status-details-bin') : [];
  for (const any of decode('google.rpc.Status', bytes).details) {
    const type = any.type_url.split('/').pop();
    if (type === 'google.rpc.ErrorInfo') {
      const info = decode(type, any.value);
      console.log(`reason: ${info.reason}`);
      if (info.metadata.errorCode) console.log(`osm_error_code: ${info.metadata.errorCode}`);
    } else if (type === 'google.rpc.RequestInfo') {
      console.log(`request_id: ${decode(type, any.value).request_id}`);
    } else if (type === 'google.rpc.BadRequest') {
      for (const v of decode(type, any.value).field_violations) {
        console.log(`invalid field: ${v.field}: ${v.description}`);
      }
    }
  }
  return error.code;
};

exports.status = grpc.status;
