/**
 * The sentences of RFC 6455 (and the IANA registry it created) and RFC 7692 that the
 * conformance cases check, quoted with their section, so that every verdict can be traced to the text.
 */
export const RfcQuote = {
  payloadLength:
    'RFC 6455 §5.2: "The length of the "Payload data", in bytes: if 0-125, that is the payload length. If 126, the following 2 bytes interpreted as a 16-bit unsigned integer are the payload length. If 127, the following 8 bytes interpreted as a 64-bit unsigned integer (the most significant bit MUST be 0) are the payload length."',
  minimalLength:
    'RFC 6455 §5.2: "Note that in all cases, the minimal number of bytes MUST be used to encode the length, for example, the length of a 124-byte-long string can\'t be encoded as the sequence 126, 0, 124."',
  text: 'RFC 6455 §5.6: "Text: The "Payload data" is text data encoded as UTF-8. Note that a particular text frame might include a partial UTF-8 sequence; however, the whole message MUST contain valid UTF-8."',
  binary:
    'RFC 6455 §5.6: "Binary: The "Payload data" is arbitrary binary data whose interpretation is solely up to the application layer."',
  ping: 'RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response, unless it already received a Close frame. It SHOULD respond with Pong frame as soon as is practical."',
  pongPayload:
    'RFC 6455 §5.5.3: "A Pong frame sent in response to a Ping frame must have identical "Application data" as found in the message body of the Ping frame being replied to."',
  controlFrameLength:
    'RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."',
  unsolicitedPong:
    'RFC 6455 §5.5.3: "A Pong frame MAY be sent unsolicited. This serves as a unidirectional heartbeat. A response to an unsolicited Pong frame is not expected."',
  latestPing:
    'RFC 6455 §5.5.3: "If an endpoint receives a Ping frame and has not yet sent Pong frame(s) in response to previous Ping frame(s), the endpoint MAY elect to send a Pong frame for only the most recently processed Ping frame."',
  reservedBits:
    'RFC 6455 §5.2: "RSV1, RSV2, RSV3: 1 bit each. MUST be 0 unless an extension is negotiated that defines meanings for non-zero values. If a nonzero value is received and none of the negotiated extensions defines the meaning of such a nonzero value, the receiving endpoint MUST _Fail the WebSocket Connection_."',
  reservedOpcode:
    'RFC 6455 §5.2: "Opcode: 4 bits. Defines the interpretation of the "Payload data". If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_." (%x3-7 are reserved for further non-control frames, %xB-F for further control frames.)',
  fragmentation:
    'RFC 6455 §5.4: "A fragmented message consists of a single frame with the FIN bit clear and an opcode other than 0, followed by zero or more frames with the FIN bit clear and the opcode set to 0, and terminated by a single frame with the FIN bit set and an opcode of 0."',
  controlInFragments:
    'RFC 6455 §5.4: "Control frames (see Section 5.5) MAY be injected in the middle of a fragmented message. Control frames themselves MUST NOT be fragmented." and "An endpoint MUST be capable of handling control frames in the middle of a fragmented message."',
  fragmentsSameType:
    'RFC 6455 §5.4: "As a consequence of these rules, all fragments of a message are of the same type, as set by the first fragment\'s opcode." and "The fragments of one message MUST NOT be interleaved between the fragments of another message unless an extension has been negotiated that can interpret the interleaving."',
  invalidUtf8:
    'RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_. This rule applies both during the opening handshake and during subsequent data exchange."',
  failFastUtf8:
    'RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_." Failing as soon as the invalid bytes arrive is best; failing at the end of the message is allowed (non-strict).',
  validUtf8:
    'RFC 6455 §5.6: "Text: The "Payload data" is text data encoded as UTF-8. Note that a particular text frame might include a partial UTF-8 sequence; however, the whole message MUST contain valid UTF-8." (Valid per RFC 3629, which includes noncharacters and specials.)',
  closeResponse:
    'RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not previously send a Close frame, the endpoint MUST send a Close frame in response. (When sending a Close frame in response, the endpoint typically echos the status code it received.)"',
  noDataAfterClose:
    'RFC 6455 §1.4: "After sending a control frame indicating the connection should be closed, a peer does not send any further data; after receiving a control frame indicating the connection should be closed, a peer discards any further data received."',
  closeBody:
    'RFC 6455 §5.5.1: "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned integer (in network byte order) representing a status code with value /code/ defined in Section 7.4. Following the 2-byte integer, the body MAY contain UTF-8-encoded data with value /reason/"',
  closeReasonUtf8:
    'RFC 6455 §5.5.1: "Following the 2-byte integer, the body MAY contain UTF-8-encoded data with value /reason/"; §8.1: invalid UTF-8 "MUST _Fail the WebSocket Connection_".',
  closeCodeRanges:
    'RFC 6455 §7.4.2: "0-999: Status codes in the range 0-999 are not used." "1000-2999: Status codes in the range 1000-2999 are reserved for definition by this protocol, its future revisions, and extensions specified in a permanent and readily available public specification." "3000-3999 ... are registered directly with IANA." "4000-4999 ... are reserved for private use".',
  reservedCloseCode:
    'RFC 6455 §7.4.1: 1004 "Reserved."; 1005, 1006 and 1015 are "a reserved value and MUST NOT be set as a status code in a Close control frame by an endpoint."',
  ianaCloseCode:
    'IANA WebSocket Close Code Number Registry (created by RFC 6455 §11.7): 1012 Service Restart, 1013 Try Again Later, 1014 Bad Gateway.',
  closeCodeOutOfRange:
    'RFC 6455 §7.4.2 ends its ranges with "4000-4999: Status codes in the range 4000-4999 are reserved for private use and thus can\'t be registered."; what a receiver does with 5000 and above is not specified.',
  tcpCloseAfterHandshake:
    'RFC 6455 §5.5.1: "After both sending and receiving a Close message, an endpoint considers the WebSocket connection closed and MUST close the underlying TCP connection. The server MUST close the underlying TCP connection immediately".',
  limits:
    'RFC 6455 §10.4: "Implementations that have implementation- and/or platform-specific limitations regarding the frame size or total message size after reassembly from multiple frames MUST protect themselves against exceeding those limits." Within the limit, a message must arrive whole and intact.',
  serverMustUnmask:
    'RFC 6455 §5.1: "The server MUST close the connection upon receiving a frame that is not masked. In this case, a server MAY send a Close frame with a status code of 1002 (protocol error)"',
  clientMustNotAcceptMasked:
    'RFC 6455 §5.1: "A server MUST NOT mask any frames that it sends to the client. A client MUST close a connection if it detects a masked frame. In this case, it MAY use the status code 1002 (protocol error)"',
  serverHandshake:
    'RFC 6455 §4.2.1: "If the server, while reading the handshake, finds that the client did not send a handshake that matches the description below ..., the server MUST stop processing the client\'s handshake and return an HTTP response with an appropriate error code (such as 400 Bad Request)."',
  handshakeKey:
    'RFC 6455 §4.2.1: "5. A |Sec-WebSocket-Key| header field with a base64-encoded (see Section 4 of [RFC4648]) value that, when decoded, is 16 bytes in length."',
  handshakeMethod: 'RFC 6455 §4.2.1: "1. An HTTP/1.1 or higher GET request, including a "Request-URI"".',
  handshakeUpgrade:
    'RFC 6455 §4.2.1: "3. An |Upgrade| header field containing the value "websocket", treated as an ASCII case-insensitive value."',
  handshakeVersion:
    'RFC 6455 §4.2.2: "If this version does not match a version understood by the server, the server MUST abort the WebSocket handshake described in this section and instead send an appropriate HTTP error code (such as 426 Upgrade Required) and a |Sec-WebSocket-Version| header field indicating the version(s) the server is capable of understanding."',
  clientAccept:
    'RFC 6455 §4.1: "4. If the response lacks a |Sec-WebSocket-Accept| header field or the |Sec-WebSocket-Accept| contains a value other than the base64-encoded SHA-1 of the concatenation of the |Sec-WebSocket-Key| (as a string, not base64-decoded) with the string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" ..., the client MUST _Fail the WebSocket Connection_."',
  clientUpgrade:
    'RFC 6455 §4.1: "2. If the response lacks an |Upgrade| header field or the |Upgrade| header field contains a value that is not an ASCII case-insensitive match for the value "websocket", the client MUST _Fail the WebSocket Connection_."',
  clientConnection:
    'RFC 6455 §4.1: "3. If the response lacks a |Connection| header field or the |Connection| header field doesn\'t contain a token that is an ASCII case-insensitive match for the value "Upgrade", the client MUST _Fail the WebSocket Connection_."',
  clientExtension:
    'RFC 6455 §4.1: "5. If the response includes a |Sec-WebSocket-Extensions| header field and this header field indicates the use of an extension that was not present in the client\'s handshake (the server has indicated an extension not requested by the client), the client MUST _Fail the WebSocket Connection_."',
  clientProtocol:
    'RFC 6455 §4.1: "6. If the response includes a |Sec-WebSocket-Protocol| header field and this header field indicates the use of a subprotocol that was not present in the client\'s handshake (the server has indicated a subprotocol not requested by the client), the client MUST _Fail the WebSocket Connection_."',
  clientStatus:
    'RFC 6455 §4.1: "1. If the status code received from the server is not 101, the client handles the response per HTTP [RFC2616] procedures." The WebSocket connection is not established.',
  autoFragmentation:
    'RFC 6455 §5.4: "The primary purpose of fragmentation is to allow sending a message that is of unknown size when the message is started without having to buffer that message." A sender may fragment as it likes; the message must arrive whole.',
  deflateMessage:
    'RFC 7692 §7.2.2: "An endpoint uses the following algorithm to decompress a message. 1. Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the payload of the message. 2. Decompress the resulting data using DEFLATE." Whether the reply is compressed is the implementation\'s choice; its content must be the message.',
  deflateFragments:
    'RFC 7692 §6: "An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames and non-first fragments of a data message." The compressed payload of one message may be cut across its frames anywhere (as in the example of §7.2.3.1).',
  deflateContextTakeover:
    'RFC 7692 §7.2.2: "If the "agreed parameters" contain the "client_no_context_takeover" extension parameter, the server MAY decompress each new message with an empty LZ77 sliding window. Otherwise, the server MUST decompress each new message using the LZ77 sliding window used to process the last compressed message." (and the same for the client with "server_no_context_takeover").',
  deflateWindowBits:
    'RFC 7692 §7.1.2.1: "This parameter has a decimal integer value without leading zeroes between 8 to 15, inclusive, indicating the base-2 logarithm of the LZ77 sliding window size"; a side whose window was limited compresses within it, so the peer keeps only that many bytes.',
  deflateOffers:
    'RFC 7692 §5: "The order of elements is important as it specifies the client\'s preference." A server accepts at most one permessage-deflate offer, and its response must be valid for the offer it accepted (§7).',
} as const;
