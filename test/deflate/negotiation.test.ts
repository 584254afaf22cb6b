// permessage-deflate negotiation (RFC 7692 §5, §7.1), unit by unit: what a server answers to each
// offer (every parameter, every bad value, several offers in one header), what a client offers,
// and which responses a client accepts or fails the handshake on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServer } from '../../src/index.js';
import { HandshakeError } from '../../src/protocol/errors.js';
import {
  acceptOffer,
  acceptResponse,
  buildOffer,
  deflateOptions,
  type PerMessageDeflateOptions,
} from '../../src/protocol/extensions/negotiation.js';
import {
  type ExtensionOffer,
  formatExtensions,
  parseExtensions,
} from '../../src/protocol/handshake/headers.js';

/** The server's answer to a Sec-WebSocket-Extensions value, as a header value ('' when declined). */
function answer(header: string | ExtensionOffer[], options: PerMessageDeflateOptions = {}): string {
  const offers = typeof header === 'string' ? parseExtensions(header) : header;
  const result = acceptOffer(offers, options);
  return result === null ? '' : formatExtensions([result.response]);
}

function accepted(header: string, options: PerMessageDeflateOptions = {}) {
  const result = acceptOffer(parseExtensions(header), options);
  assert.ok(result !== null, `the server accepts ${header}`);
  return result;
}

/** The client's view of a response to its offer made with `options`. */
function respond(header: string, options: PerMessageDeflateOptions = {}) {
  return acceptResponse(parseExtensions(header), options, 101);
}

function assertHandshakeFails(header: string | ExtensionOffer[], options: PerMessageDeflateOptions = {}) {
  const responses = typeof header === 'string' ? parseExtensions(header) : header;
  assert.throws(
    () => acceptResponse(responses, options, 101),
    (error: unknown) => error instanceof HandshakeError && /permessage-deflate/.test(error.message),
    `the client fails the handshake on ${typeof header === 'string' ? header : JSON.stringify(header)}`,
  );
}

const PMD = 'permessage-deflate';
const VALID = 'permessage-deflate; client_max_window_bits';
const WINDOWS = [8, 9, 10, 11, 12, 13, 14, 15];

/** Offers that RFC 7692 §7.1 makes invalid, as header text. */
const BAD_OFFERS: readonly string[] = [
  // window bits out of range, with leading zeros, not numbers
  ...[
    '0',
    '7',
    '16',
    '08',
    '09',
    '015',
    'abc',
    '1e1',
    '-9',
    '+9',
    '9.0',
    '0x9',
    '99999999999999999999',
  ].flatMap((value) => [
    `${PMD}; server_max_window_bits=${value}`,
    `${PMD}; client_max_window_bits=${value}`,
  ]),
  `${PMD}; server_max_window_bits="16"`,
  `${PMD}; client_max_window_bits="08"`,
  // server_max_window_bits needs a value
  `${PMD}; server_max_window_bits`,
  // the no-context-takeover parameters take none
  `${PMD}; server_no_context_takeover=1`,
  `${PMD}; client_no_context_takeover=true`,
  `${PMD}; server_no_context_takeover="x"`,
  // duplicates
  `${PMD}; server_no_context_takeover; server_no_context_takeover`,
  `${PMD}; client_no_context_takeover; client_no_context_takeover`,
  `${PMD}; server_max_window_bits=10; server_max_window_bits=10`,
  `${PMD}; server_max_window_bits=10; server_max_window_bits=12`,
  `${PMD}; client_max_window_bits; client_max_window_bits`,
  `${PMD}; client_max_window_bits; client_max_window_bits=10`,
  // unknown parameters
  `${PMD}; foo`,
  `${PMD}; foo=1`,
  `${PMD}; client_max_window_bits; x-unknown=15`,
  `${PMD}; max_window_bits=10`,
];

/** Bad values that the header syntax cannot carry (an empty value), built directly. */
const EMPTY_VALUE_OFFERS: readonly ExtensionOffer[] = [
  { name: PMD, params: [['server_max_window_bits', '']] },
  { name: PMD, params: [['client_max_window_bits', '']] },
  { name: PMD, params: [['server_no_context_takeover', '']] },
  { name: PMD, params: [['client_no_context_takeover', '']] },
];

describe('server: each parameter of an offer', () => {
  it('a bare offer is accepted with no parameters, 15-bit windows both ways, context takeover', () => {
    const result = accepted(PMD);
    assert.equal(formatExtensions([result.response]), PMD);
    assert.deepEqual(result.params, {
      localNoContextTakeover: false,
      remoteNoContextTakeover: false,
      localMaxWindowBits: 15,
      remoteMaxWindowBits: 15,
      memLevel: 8,
      level: 6,
      threshold: 1024,
    });
  });

  it("the browsers' offer (client_max_window_bits without a value) needs no window in the answer", () => {
    const result = accepted(VALID);
    assert.equal(formatExtensions([result.response]), PMD);
    assert.equal(result.params.remoteMaxWindowBits, 15);
  });

  it('server_no_context_takeover is accepted by echoing it; the server then resets its compressor', () => {
    const result = accepted(`${PMD}; server_no_context_takeover`);
    assert.equal(formatExtensions([result.response]), `${PMD}; server_no_context_takeover`);
    assert.equal(result.params.localNoContextTakeover, true);
    assert.equal(result.params.remoteNoContextTakeover, false);
  });

  it('client_no_context_takeover is echoed; the server may then drop its decompressor between messages', () => {
    const result = accepted(`${PMD}; client_no_context_takeover`);
    assert.equal(formatExtensions([result.response]), `${PMD}; client_no_context_takeover`);
    assert.equal(result.params.remoteNoContextTakeover, true);
    assert.equal(result.params.localNoContextTakeover, false);
  });

  for (const bits of WINDOWS) {
    it(`server_max_window_bits=${bits} is accepted with the same value, and the server compresses within it`, () => {
      const result = accepted(`${PMD}; server_max_window_bits=${bits}`);
      assert.equal(formatExtensions([result.response]), `${PMD}; server_max_window_bits=${bits}`);
      assert.equal(result.params.localMaxWindowBits, bits);
      assert.equal(result.params.remoteMaxWindowBits, 15);
    });

    it(`client_max_window_bits=${bits} is answered with ${bits}, and the server inflates with that window`, () => {
      const result = accepted(`${PMD}; client_max_window_bits=${bits}`);
      assert.equal(formatExtensions([result.response]), `${PMD}; client_max_window_bits=${bits}`);
      assert.equal(result.params.remoteMaxWindowBits, bits);
      assert.equal(result.params.localMaxWindowBits, 15);
    });
  }

  it('a quoted value is read as its token (RFC 6455 §9.1 allows quoted-string)', () => {
    const result = accepted(`${PMD}; server_max_window_bits="10"; client_max_window_bits="11"`);
    assert.equal(result.params.localMaxWindowBits, 10);
    assert.equal(result.params.remoteMaxWindowBits, 11);
  });

  it('all four parameters at once, in any order', () => {
    const header = `${PMD}; client_max_window_bits=9; server_no_context_takeover; server_max_window_bits=12; client_no_context_takeover`;
    const result = accepted(header);
    assert.deepEqual(
      parseExtensions(formatExtensions([result.response]))[0]
        .params.slice()
        .sort(),
      [
        ['client_max_window_bits', '9'],
        ['client_no_context_takeover', true],
        ['server_max_window_bits', '12'],
        ['server_no_context_takeover', true],
      ],
    );
    assert.deepEqual(
      {
        local: result.params.localNoContextTakeover,
        remote: result.params.remoteNoContextTakeover,
        localBits: result.params.localMaxWindowBits,
        remoteBits: result.params.remoteMaxWindowBits,
      },
      { local: true, remote: true, localBits: 12, remoteBits: 9 },
    );
  });

  it('other extensions are passed over; permessage-deflate after them is accepted', () => {
    assert.equal(answer(`x-webkit-deflate-frame, deflate-frame; max_window_bits=10, ${VALID}`), PMD);
    assert.equal(answer('x-webkit-deflate-frame, foo; bar'), '');
    assert.equal(answer([]), '');
  });
});

describe('server: its own options', () => {
  it('enabled: false (perMessageDeflate: false) declines every offer', () => {
    assert.equal(answer(VALID, deflateOptions(false)), '');
    assert.equal(answer(VALID, { enabled: false }), '');
  });

  it('deflateOptions maps the boolean shorthand', () => {
    assert.deepEqual(deflateOptions(undefined), {});
    assert.deepEqual(deflateOptions(true), {});
    assert.deepEqual(deflateOptions(false), { enabled: false });
    const options = { serverMaxWindowBits: 10 };
    assert.equal(deflateOptions(options), options);
  });

  it('serverNoContextTakeover is added to an offer that did not ask for it (§7.1.1.1 allows it)', () => {
    const result = accepted(VALID, { serverNoContextTakeover: true });
    assert.equal(formatExtensions([result.response]), `${PMD}; server_no_context_takeover`);
    assert.equal(result.params.localNoContextTakeover, true);
  });

  it('clientNoContextTakeover is added to an offer that did not ask for it (§7.1.1.2 allows it)', () => {
    const result = accepted(VALID, { clientNoContextTakeover: true });
    assert.equal(formatExtensions([result.response]), `${PMD}; client_no_context_takeover`);
    assert.equal(result.params.remoteNoContextTakeover, true);
  });

  it('serverMaxWindowBits limits its own window, named in the answer even when not offered (§7.1.2.1)', () => {
    assert.equal(answer(VALID, { serverMaxWindowBits: 10 }), `${PMD}; server_max_window_bits=10`);
    assert.equal(accepted(VALID, { serverMaxWindowBits: 10 }).params.localMaxWindowBits, 10);
    // the smaller of the offer and the setting
    assert.equal(
      answer(`${PMD}; server_max_window_bits=12`, { serverMaxWindowBits: 10 }),
      `${PMD}; server_max_window_bits=10`,
    );
    assert.equal(
      answer(`${PMD}; server_max_window_bits=9`, { serverMaxWindowBits: 10 }),
      `${PMD}; server_max_window_bits=9`,
    );
  });

  it('clientMaxWindowBits limits the client when it offered client_max_window_bits (§7.1.2.2)', () => {
    assert.equal(answer(VALID, { clientMaxWindowBits: 10 }), `${PMD}; client_max_window_bits=10`);
    assert.equal(accepted(VALID, { clientMaxWindowBits: 10 }).params.remoteMaxWindowBits, 10);
    assert.equal(
      answer(`${PMD}; client_max_window_bits=12`, { clientMaxWindowBits: 10 }),
      `${PMD}; client_max_window_bits=10`,
    );
    assert.equal(
      answer(`${PMD}; client_max_window_bits=9`, { clientMaxWindowBits: 10 }),
      `${PMD}; client_max_window_bits=9`,
    );
  });

  it('clientMaxWindowBits cannot limit a client that did not offer client_max_window_bits: that offer is declined', () => {
    assert.equal(answer(PMD, { clientMaxWindowBits: 10 }), '');
    assert.equal(answer(`${PMD}; server_no_context_takeover`, { clientMaxWindowBits: 14 }), '');
  });

  it('codec settings come from the options', () => {
    const result = accepted(VALID, { memLevel: 4, level: 1, threshold: 0 });
    assert.equal(result.params.memLevel, 4);
    assert.equal(result.params.level, 1);
    assert.equal(result.params.threshold, 0);
  });

  for (const options of [
    { serverMaxWindowBits: 7 },
    { serverMaxWindowBits: 16 },
    { serverMaxWindowBits: 9.5 },
    { clientMaxWindowBits: 0 },
    { clientMaxWindowBits: 16 },
    { memLevel: 0 },
    { memLevel: 10 },
    { level: -1 },
    { level: 10 },
  ] satisfies PerMessageDeflateOptions[]) {
    it(`rejects nonsense options: ${JSON.stringify(options)}`, () => {
      assert.throws(() => acceptOffer(parseExtensions(VALID), options), RangeError);
      assert.throws(() => buildOffer(options), RangeError);
      // A server refuses them when the route is added, not at each upgrade.
      assert.throws(() => createServer({ perMessageDeflate: options }).route('/', {}), RangeError);
      assert.throws(() => createServer().route('/', { perMessageDeflate: options }), RangeError);
    });
  }
});

describe('server: invalid offers are declined, and the next valid one in the same header is accepted', () => {
  for (const bad of BAD_OFFERS) {
    it(bad, () => {
      assert.equal(answer(bad), '', 'declined when it is the only offer');
      assert.equal(answer(`${bad}, ${PMD}; server_max_window_bits=11`), `${PMD}; server_max_window_bits=11`);
      // and a bad offer after a good one changes nothing
      assert.equal(
        answer(`${PMD}; client_no_context_takeover, ${bad}`),
        `${PMD}; client_no_context_takeover`,
      );
    });
  }

  for (const bad of EMPTY_VALUE_OFFERS) {
    it(`an empty value: ${JSON.stringify(bad.params)}`, () => {
      assert.equal(answer([bad]), '');
      assert.equal(
        answer([bad, { name: PMD, params: [['client_no_context_takeover', true]] }]),
        `${PMD}; client_no_context_takeover`,
      );
    });
  }

  it('the same offers split over several header lines are read in order (values joined with ", ")', () => {
    // HeaderMap joins repeated fields the way RFC 9110 §5.3 allows: this is the joined value.
    assert.equal(
      answer(`${PMD}; server_max_window_bits=7, ${PMD}; client_max_window_bits=10`),
      `${PMD}; client_max_window_bits=10`,
    );
  });
});

describe('server: several offers, the first one it can honour wins', () => {
  it('the first valid offer is taken even when a later one asks for less', () => {
    assert.equal(
      answer(`${PMD}; server_max_window_bits=10; client_max_window_bits, ${PMD}; client_max_window_bits`),
      `${PMD}; server_max_window_bits=10`,
    );
    assert.equal(
      answer(`${PMD}; client_max_window_bits, ${PMD}; server_max_window_bits=10; client_max_window_bits`),
      PMD,
    );
  });

  it('RFC 7692 §7.1.3 fallback example: a small server window, else anything', () => {
    const header = `${PMD}; client_max_window_bits; server_max_window_bits=10, ${PMD}; client_max_window_bits`;
    assert.equal(answer(header), `${PMD}; server_max_window_bits=10`);
  });

  it('a server that must limit the client skips offers without client_max_window_bits', () => {
    const header = `${PMD}; server_no_context_takeover, ${PMD}; client_max_window_bits=12, ${PMD}`;
    const result = accepted(header, { clientMaxWindowBits: 10 });
    assert.equal(formatExtensions([result.response]), `${PMD}; client_max_window_bits=10`);
    assert.equal(
      result.params.localNoContextTakeover,
      false,
      'the first (skipped) offer left nothing behind',
    );
    assert.equal(answer(`${PMD}, ${PMD}; server_no_context_takeover`, { clientMaxWindowBits: 10 }), '');
  });

  it('invalid offers of every kind before a valid one are all skipped', () => {
    const header = [...BAD_OFFERS, `${PMD}; client_no_context_takeover; client_max_window_bits=13`].join(
      ', ',
    );
    assert.equal(answer(header), `${PMD}; client_no_context_takeover; client_max_window_bits=13`);
  });
});

describe('client: the offer', () => {
  it('by default offers what browsers offer: client_max_window_bits without a value', () => {
    assert.equal(formatExtensions([buildOffer({})!]), VALID);
    assert.equal(formatExtensions([buildOffer(deflateOptions(true))!]), VALID);
  });

  it('offers nothing when disabled', () => {
    assert.equal(buildOffer({ enabled: false }), null);
    assert.equal(buildOffer(deflateOptions(false)), null);
  });

  it('offers each parameter it was configured with', () => {
    assert.equal(
      formatExtensions([buildOffer({ serverNoContextTakeover: true })!]),
      `${PMD}; server_no_context_takeover; client_max_window_bits`,
    );
    assert.equal(
      formatExtensions([buildOffer({ clientNoContextTakeover: true })!]),
      `${PMD}; client_no_context_takeover; client_max_window_bits`,
    );
    for (const bits of WINDOWS) {
      assert.equal(
        formatExtensions([buildOffer({ serverMaxWindowBits: bits })!]),
        `${PMD}; server_max_window_bits=${bits}; client_max_window_bits`,
      );
      assert.equal(
        formatExtensions([buildOffer({ clientMaxWindowBits: bits })!]),
        `${PMD}; client_max_window_bits=${bits}`,
      );
    }
    assert.equal(formatExtensions([buildOffer({ clientMaxWindowBits: true })!]), VALID);
  });

  it('every offer it builds is one a server accepts (round trip through the header text)', () => {
    for (const serverNoContextTakeover of [false, true]) {
      for (const clientNoContextTakeover of [false, true]) {
        for (const bits of [undefined, 8, 12, 15]) {
          const options = {
            serverNoContextTakeover,
            clientNoContextTakeover,
            serverMaxWindowBits: bits,
            clientMaxWindowBits: bits,
          };
          const offer = formatExtensions([buildOffer(options)!]);
          const server = accepted(offer);
          const client = respond(formatExtensions([server.response]), options);
          assert.ok(client !== null, offer);
          // each side's view mirrors the other's
          assert.equal(client.localNoContextTakeover, server.params.remoteNoContextTakeover, offer);
          assert.equal(client.remoteNoContextTakeover, server.params.localNoContextTakeover, offer);
          assert.equal(client.localMaxWindowBits, server.params.remoteMaxWindowBits, offer);
          assert.equal(client.remoteMaxWindowBits, server.params.localMaxWindowBits, offer);
        }
      }
    }
  });
});

describe('client: responses it accepts', () => {
  it('no permessage-deflate in the response: no extension', () => {
    assert.equal(acceptResponse([], {}, 101), null);
  });

  it('a bare response: context takeover and 15-bit windows both ways', () => {
    assert.deepEqual(respond(PMD), {
      localNoContextTakeover: false,
      remoteNoContextTakeover: false,
      localMaxWindowBits: 15,
      remoteMaxWindowBits: 15,
      memLevel: 8,
      level: 6,
      threshold: 1024,
    });
  });

  it('server_no_context_takeover, even unasked: the client may reset its decompressor', () => {
    assert.equal(respond(`${PMD}; server_no_context_takeover`)!.remoteNoContextTakeover, true);
  });

  it('client_no_context_takeover, even unasked (§7.1.1.2): the client resets its compressor', () => {
    const params = respond(`${PMD}; client_no_context_takeover`)!;
    assert.equal(params.localNoContextTakeover, true);
    assert.equal(params.remoteNoContextTakeover, false);
  });

  for (const bits of WINDOWS) {
    it(`server_max_window_bits=${bits}, unasked: the server compresses within it`, () => {
      assert.equal(respond(`${PMD}; server_max_window_bits=${bits}`)!.remoteMaxWindowBits, bits);
    });

    it(`client_max_window_bits=${bits} after the default offer (client_max_window_bits without a value)`, () => {
      assert.equal(respond(`${PMD}; client_max_window_bits=${bits}`)!.localMaxWindowBits, bits);
    });
  }

  it('server_max_window_bits at or below what was offered', () => {
    assert.equal(
      respond(`${PMD}; server_max_window_bits=10`, { serverMaxWindowBits: 10 })!.remoteMaxWindowBits,
      10,
    );
    assert.equal(
      respond(`${PMD}; server_max_window_bits=9`, { serverMaxWindowBits: 10 })!.remoteMaxWindowBits,
      9,
    );
  });

  it('client_max_window_bits at or below what was offered; absent means the offered value', () => {
    assert.equal(
      respond(`${PMD}; client_max_window_bits=10`, { clientMaxWindowBits: 10 })!.localMaxWindowBits,
      10,
    );
    assert.equal(
      respond(`${PMD}; client_max_window_bits=9`, { clientMaxWindowBits: 10 })!.localMaxWindowBits,
      9,
    );
    assert.equal(respond(PMD, { clientMaxWindowBits: 11 })!.localMaxWindowBits, 11);
  });

  it('other extensions in the response are not its business (the handshake checks they were offered)', () => {
    assert.equal(respond(`x-foo, ${PMD}`)!.localMaxWindowBits, 15);
  });
});

describe('client: responses that fail the handshake', () => {
  const cases: Array<[string, string, PerMessageDeflateOptions?]> = [
    ['two permessage-deflate responses', `${PMD}, ${PMD}`],
    [
      'two permessage-deflate responses with different parameters',
      `${PMD}; server_no_context_takeover, ${PMD}`,
    ],
    ['client_max_window_bits without a value', `${PMD}; client_max_window_bits`],
    [
      'client_max_window_bits above the offered value',
      `${PMD}; client_max_window_bits=11`,
      { clientMaxWindowBits: 10 },
    ],
    [
      'client_max_window_bits=15 after offering 8',
      `${PMD}; client_max_window_bits=15`,
      { clientMaxWindowBits: 8 },
    ],
    [
      'server_max_window_bits above the offered value',
      `${PMD}; server_max_window_bits=11`,
      { serverMaxWindowBits: 10 },
    ],
    [
      'server_max_window_bits missing after asking for one (the offer was not accepted)',
      PMD,
      { serverMaxWindowBits: 10 },
    ],
    ['server_max_window_bits without a value', `${PMD}; server_max_window_bits`],
    ['an unknown parameter', `${PMD}; foo`],
    ['an unknown parameter with a value', `${PMD}; foo=bar`],
    ['a value on server_no_context_takeover', `${PMD}; server_no_context_takeover=1`],
    ['a value on client_no_context_takeover', `${PMD}; client_no_context_takeover=1`],
    ['a duplicate parameter', `${PMD}; server_no_context_takeover; server_no_context_takeover`],
    ['a duplicate window', `${PMD}; client_max_window_bits=10; client_max_window_bits=10`],
  ];
  for (const value of ['0', '7', '16', '08', 'abc', '1e1', '-9']) {
    cases.push([`server_max_window_bits=${value}`, `${PMD}; server_max_window_bits=${value}`]);
    cases.push([`client_max_window_bits=${value}`, `${PMD}; client_max_window_bits=${value}`]);
  }
  for (const [what, header, options] of cases) {
    it(`${what}: ${header}`, () => assertHandshakeFails(header, options));
  }

  it('empty values (not expressible in header syntax, built directly)', () => {
    for (const offer of EMPTY_VALUE_OFFERS) assertHandshakeFails([offer]);
  });

  it('the error carries the HTTP status it came with', () => {
    try {
      acceptResponse(parseExtensions(`${PMD}; foo`), {}, 101);
      assert.fail('expected a HandshakeError');
    } catch (error) {
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.status, 101);
    }
  });
});
