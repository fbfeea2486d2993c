import { expect } from 'chai';
import type { Request } from 'express';
import { clientAddress, plainAddress } from '../../plugin/auth/client-address.js';

describe('auth: the client address recorded', () => {
  it('records an IPv4 client on a dual-stack socket as plain IPv4, and leaves every other address as it is', () => {
    expect(plainAddress('::ffff:203.0.113.7')).to.equal('203.0.113.7');
    expect(plainAddress('::FFFF:127.0.0.1')).to.equal('127.0.0.1');
    for (const address of ['203.0.113.7', '::1', '2001:db8::ffff:1', '::ffff:abcd:1', '::ffff:999.1.1.1', '::ffff:', 'fe80::1%eth0']) {
      expect(plainAddress(address), address).to.equal(address);
    }
  });

  it('takes the address Express resolved (the proxy setting included), else the socket\'s', () => {
    const request = (ip: string | undefined, remoteAddress: string | undefined) => ({ ip, socket: { remoteAddress } }) as unknown as Request;
    expect(clientAddress(request('::ffff:10.1.2.3', '::ffff:192.0.2.1'))).to.equal('10.1.2.3');
    expect(clientAddress(request(undefined, '::ffff:192.0.2.1'))).to.equal('192.0.2.1');
    expect(clientAddress(request(undefined, undefined))).to.equal('unknown');
  });
});
