// Import direction (npm run lint:imports, part of npm test): clients → service → smcard → crypto-device → kernel.
// No layer imports one above it, and clients reach the service only through the wire, never its runtime code.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'kernel-imports-up',
      comment: 'kernel/ is the bottom layer: it imports no other layer.',
      severity: 'error',
      from: { path: '^kernel/' },
      to: { path: '^(crypto-device|smcard|service|clients)/' },
    },
    {
      name: 'crypto-device-imports-up',
      comment: 'crypto-device/ may use kernel/ only.',
      severity: 'error',
      from: { path: '^crypto-device/' },
      to: { path: '^(smcard|service|clients)/' },
    },
    {
      name: 'crypto-device-inner-layers',
      comment: 'Inside crypto-device/: lib -> driver -> device -> engines; the driver never imports the library above it.',
      severity: 'error',
      from: { path: '^crypto-device/(engines|device|driver)/' },
      to: { path: '^crypto-device/lib/' },
    },
    {
      name: 'engines-import-up',
      comment: 'The engines know nothing of the device or driver that use them.',
      severity: 'error',
      from: { path: '^crypto-device/engines/' },
      to: { path: '^crypto-device/(device|driver|lib)/' },
    },
    {
      name: 'smcard-imports-up',
      comment: 'smcard/ may use crypto-device/ and kernel/ only.',
      severity: 'error',
      from: { path: '^smcard/' },
      to: { path: '^(service|clients)/' },
    },
    {
      name: 'service-imports-clients',
      comment: 'service/ never imports the clients that talk to it.',
      severity: 'error',
      from: { path: '^service/' },
      to: { path: '^clients/' },
    },
    {
      name: 'clients-import-service-runtime',
      comment:
        'clients/ talk to the service over the wire: they may import its published contract (service/contract/) and ' +
        'its types, not its runtime code. The CLI is the exception that starts the service: `vscr serve` and the ' +
        'entry-point test it shares with the service main.',
      severity: 'error',
      from: { path: '^clients/', pathNot: '^clients/cli/commands/serve\\.ts$' },
      to: { path: '^service/', pathNot: '^service/(contract/|main-module\\.ts$)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'contract-is-pure-data',
      comment: 'service/contract/ is shared with browser clients: no Node built-ins, packages or service runtime.',
      severity: 'error',
      from: { path: '^service/contract/' },
      to: {
        pathNot: '^(service/contract/|smcard/constants/)',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'windows-scard-only-at-the-reader-door',
      comment:
        "Windows' SCARD vocabulary (smcard/constants/scard.ts: RAW 0x10000, states as ordinals) is not pcsc-lite's. " +
        'Above smcard/ only the RM modules that speak to the reader use it: reader-ioctl.ts and the one translation, ' +
        'protocol-map.ts.',
      severity: 'error',
      from: { path: '^(service|clients)/', pathNot: '^service/rm/(reader-ioctl|protocol-map)\\.ts$' },
      to: { path: '^smcard/constants/(scard|index)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|test)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
