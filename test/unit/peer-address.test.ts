import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressText, compactAddress } from '../../src/node/peer-address.js';

describe('compact peer addresses', () => {
  it('keeps a dotted IPv4 address as a 32-bit integer and gives the same text back', () => {
    for (const address of [
      '127.0.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '10.20.30.40',
      '192.168.1.254',
      '1.2.3.4',
    ]) {
      const compact = compactAddress(address);
      assert.equal(typeof compact, 'number', address);
      assert.ok(
        Number.isInteger(compact) && (compact as number) >= -(2 ** 31) && (compact as number) < 2 ** 31,
      );
      assert.equal(addressText(compact), address);
    }
  });

  it('keeps anything else as it is', () => {
    for (const address of [
      '',
      '::1',
      '::ffff:127.0.0.1',
      'fe80::1%eth0',
      '127.0.0.01',
      '01.2.3.4',
      '256.0.0.1',
      '1.2.3',
      '1.2.3.4.5',
      '1..2.3',
      '1.2.3.',
      '.1.2.3',
      '1.2.3.4 ',
      '9999999999.1.1.1',
    ]) {
      assert.equal(compactAddress(address), address);
      assert.equal(addressText(compactAddress(address)), address);
    }
  });
});
