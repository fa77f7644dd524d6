// tickwire's browser client library, game-agnostic: import everything from here.
//
//   Client                         the whole client in one object (start here)
//   Connection, socketUrl          the WebSocket: handshake, pings, close codes, reconnect
//   matchmake                      POST /matchmake of a cluster (Connection does it itself)
//   Replica, Entity, ReplicaError  snapshots applied to components, read by name
//   ReplicaCallbacks               onAdd/onChange/onRemove per component, onSpawn/onDespawn
//   Predictor, Interpolator        prediction/reconciliation and the interpolation buffer
//   ServerClock, FixedRateLoop, InputTiming   server time and input timing
//   Schema, decode/encode functions, tags, CloseCode   the wire protocol v2

export { DecodeError, Reader, Writer } from "./bincode.js";
export { FixedRateLoop, InputTiming, ServerClock } from "./clock.js";
export { Client } from "./client.js";
export {
  authcheckUrl, CLIENT_PROTOCOL_ERROR, Connection, fetchRooms, matchmake, MatchmakeError, resumeUrl, socketUrl,
  tokenUrl, withName,
} from "./connection.js";
export { Emitter } from "./events.js";
export {
  INTERPOLATION_DELAY_MS, InterpolationDelay, Interpolator, MAX_EXTRAPOLATION_MS, MAX_INTERPOLATION_DELAY_MS,
} from "./interpolation.js";
export { Predictor } from "./prediction.js";
export {
  ChangeKind, ClientTag, CloseCode, decodeClientMessage, decodeServerMessage, encodeClientMessage,
  MAX_CLIENT_MESSAGE_BYTES, NO_ENTITY, OpTag, PROTOCOL_VERSION, ServerTag, SUBPROTOCOL, VersionError,
} from "./protocol.js";
export { Entity, Replica, ReplicaCallbacks, ReplicaError } from "./replica.js";
export { ComponentInfo, fnv1a64, Schema } from "./schema.js";
