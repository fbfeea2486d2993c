import { expect } from 'chai';
import type { Request } from 'express';
import { clientAddress, clientKey, isClientKey, plainAddress } from '../../plugin/auth/client-address.js';

describe('auth: the client address recorded', () => {
  it('records an IPv4 client on a dual-stack socket as plain IPv4, and leaves every other address as it is', () => {
    expect(plainAddress('::ffff:203.0.113.7')).to.equal('203.0.113.7');
    expect(plainAddress('::FFFF:127.0.0.1')).to.equal('127.0.0.1');
    // The same mapped address written in hex.
    expect(plainAddress('::ffff:cb00:7107')).to.equal('203.0.113.7');
    expect(plainAddress('0:0:0:0:0:FFFF:CB00:7107')).to.equal('203.0.113.7');
    for (const address of ['203.0.113.7', '::1', '2001:db8::ffff:1', '::ffff:999.1.1.1', '::ffff:', 'fe80::1%eth0', 'unknown']) {
      expect(plainAddress(address), address).to.equal(address);
    }
  });

  it('counts one IPv6 address as one, however it is spelt', () => {
    for (const spelling of ['2001:db8::1', '2001:DB8::1', '2001:db8:0:0::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::0001']) {
      expect(plainAddress(spelling), spelling).to.equal('2001:db8::1');
    }
    expect(plainAddress('0:0:0:0:0:0:0:1')).to.equal('::1');
  });

  it('takes the address Express resolved (the proxy setting included), else the socket\'s', () => {
    const request = (ip: string | undefined, remoteAddress: string | undefined) => ({ ip, socket: { remoteAddress } }) as unknown as Request;
    expect(clientAddress(request('::ffff:10.1.2.3', '::ffff:192.0.2.1'))).to.equal('10.1.2.3');
    expect(clientAddress(request(undefined, '::ffff:192.0.2.1'))).to.equal('192.0.2.1');
    expect(clientAddress(request(undefined, undefined))).to.equal('unknown');
  });

  it('never records text a host passed on as the address when it is none: the socket\'s address instead', () => {
    // A host behind a proxy may hand on whatever its X-Forwarded-For said (the reference host does not).
    const request = (ip: string | undefined, remoteAddress: string | undefined) => ({ ip, socket: { remoteAddress } }) as unknown as Request;
    for (const forged of ['<b>1.2.3.4</b>', 'unknown', '1.2.3.4:5678', "1' OR '1'='1", '']) {
      expect(clientAddress(request(forged, '::ffff:192.0.2.1')), forged).to.equal('192.0.2.1');
      expect(clientAddress(request(forged, undefined)), forged).to.equal('unknown');
    }
    expect(clientAddress(request('fe80::1%eth0', '192.0.2.1'))).to.equal('fe80::1%eth0');
  });

  it('counts an IPv6 client by its /64, however its address is spelt; an IPv4 one by its address', () => {
    for (const address of ['2001:db8:1:2::1', '2001:DB8:1:2:ffff:eeee:dddd:cccc', '2001:0db8:0001:0002:0:0:0:0', '2001:db8:1:2::']) {
      expect(clientKey(address), address).to.equal('2001:db8:1:2::/64');
    }
    expect(clientKey('2001:db8::1')).to.equal('2001:db8::/64');
    expect(clientKey('1:2:3:4:5:6:7:8')).to.equal('1:2:3:4::/64');
    expect(clientKey('::ffff:203.0.113.7')).to.equal('203.0.113.7');
    for (const text of ['203.0.113.7', 'unknown', '2001:db8:1:2::/64']) expect(clientKey(text), text).to.equal(text);
    for (const key of ['203.0.113.7', '2001:db8::1', '2001:db8:1:2::/64', '::/64']) expect(isClientKey(key), key).to.equal(true);
    for (const text of ['unknown', '2001:db8::1/64', '2001:db8:0:0::/64', 'x::/64', '<b>::/64']) expect(isClientKey(text), text).to.equal(false);
  });
});
