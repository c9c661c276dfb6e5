// Public surface of hosts/links: direct host-to-host byte streams for bulk tensors, framed
// with the protocol envelope, endpoints exchanged through NATS KV.
export { type Link, type LinkHandlers, type LinkHello, type LinkStats, type LinkTiming } from "./link.js";
export { type DialOptions, type LinkListener, type ListenOptions, dialLink, listenLinks } from "./connect.js";
export { type EndpointRegistry, type LinkEndpoint, type LookupOptions, LinkEndpointSchema, openEndpointRegistry } from "./endpoints.js";
export { type AttachmentInfo, AttachmentInfo as AttachmentInfoSchema, FRAME_HEADER_BYTES, LINK_FRAME_VERSION, LINK_MAX_ATTACHMENT, checkAttachment, readFrameHeader, writeFrameHeader } from "./frame.js";
