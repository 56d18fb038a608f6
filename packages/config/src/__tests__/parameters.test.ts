import fc from 'fast-check';
import { z } from 'zod';

import { ENVIRONMENT_ONLY_KEYS, configKey, configKeys, describeConfigKeys, keyToParameterName, parameterNameToKey, requiredParameters } from '../index';

describe('describeConfigKeys', () => {
  it('when the schema is described, then every key appears once with its parameter name, requirement and default as the schema says', () => {
    const infos = describeConfigKeys();

    expect(infos.map((info) => info.key)).toEqual(Object.keys(configKeys));
    for (const info of infos) {
      const spec = configKeys[info.key as keyof typeof configKeys];
      expect(info.ssmRequired).toBe(spec.ssmRequired === true);
      expect(info.parameter).toBe(ENVIRONMENT_ONLY_KEYS.includes(info.key) ? undefined : info.key.toLowerCase().replace(/_/g, '-'));
      // The default, written back as text, is a value the key accepts.
      expect(info.defaultText === undefined || spec.schema.safeParse(info.defaultText).success).toBe(true);
    }
  });

  it('when the frozen fixture of three keys is described, then the result is exactly this', () => {
    const keys = {
      PORT: configKeys.PORT,
      LOG_LEVEL: configKeys.LOG_LEVEL,
      CONFIG_SSM_PATH: configKeys.CONFIG_SSM_PATH,
      WORD: configKey({ schema: z.string().default('Hi'), description: 'A word.', ssmRequired: true }),
    };

    expect(describeConfigKeys(keys).map(({ description: _d, ...rest }) => rest)).toEqual([
      { key: 'PORT', parameter: 'port', ssmRequired: false, defaultText: '3000' },
      { key: 'LOG_LEVEL', parameter: 'log-level', ssmRequired: false, defaultText: 'info' },
      { key: 'CONFIG_SSM_PATH', parameter: undefined, ssmRequired: false, defaultText: undefined },
      { key: 'WORD', parameter: 'word', ssmRequired: true, defaultText: 'Hi' },
    ]);
  });

  it('when a key name is mapped to its parameter and back, then it is the same key', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/), (key) => {
        expect(parameterNameToKey('/svc/env/', keyToParameterName('/svc/env/', key))).toBe(key);
      }),
    );
  });
});

describe('requiredParameters', () => {
  it('when a required key has no default, then building stubs fails naming it', () => {
    const keys = { ...configKeys, NO_DEFAULT: configKey({ schema: z.string(), description: 'x', ssmRequired: true }) };

    expect(() => requiredParameters('/svc/env/', keys)).toThrow('NO_DEFAULT');
  });

  it('when keys are required, then there is one parameter per required key below the path', () => {
    const keys = { ...configKeys, SECOND: configKey({ schema: z.string().default('two'), description: 'x', ssmRequired: true }) };

    const names = requiredParameters('/svc/env/', keys).map((p) => p.name);

    expect(names).toEqual(describeConfigKeys(keys).filter((i) => i.ssmRequired).map((i) => `/svc/env/${i.parameter ?? ''}`));
    expect(names).toContain('/svc/env/second');
  });
});
