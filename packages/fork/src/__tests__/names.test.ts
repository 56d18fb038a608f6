import fc from 'fast-check';

import { LONGEST_ENVIRONMENT_NAME, scopeProblems, serviceProblems } from '../names';

/** Valid service names: dash-separated lowercase words, starting with a letter, at most 32 characters. */
const validService = fc
  .array(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 4 })
  .map((words) => words.join('-'))
  .filter((name) => /^[a-z]/.test(name) && name.length <= 32);

describe('scopeProblems', () => {
  it('when the scope follows npm rules, then it is accepted', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^@[a-z0-9][a-z0-9-._~]{0,40}$/), (scope) => {
        // Assert
        expect(scopeProblems(scope)).toEqual([]);
      }),
    );
  });

  it.each([
    ['acme', 'starts with @'],
    ['@Acme', 'lowercase'],
    ['@_acme', 'do not start with . or _'],
    ['@.acme', 'do not start with . or _'],
    ['@ac me', 'lowercase letters, digits'],
    ['@acme/api', 'lowercase letters, digits'],
    ['@', 'needs a name after the @'],
    [`@${'a'.repeat(200)}`, 'at most 214'],
  ])('when the scope is %j, then it is refused naming the rule (%s)', (scope, rule) => {
    // Act
    const problems = scopeProblems(scope);

    // Assert
    expect(problems.join('\n')).toContain(rule);
    expect(problems.join('\n')).toContain('npm');
  });
});

describe('serviceProblems', () => {
  it('when a generated valid service name is checked, then it is accepted and every name derived from it fits its AWS limit', () => {
    fc.assert(
      fc.property(validService, (service) => {
        // Act
        const problems = serviceProblems(service);

        // Assert
        expect(problems).toEqual([]);
        const environment = 'e'.repeat(LONGEST_ENVIRONMENT_NAME);
        expect(`${service}-${environment}`.length).toBeLessThanOrEqual(100); // deployment group
        expect(`CodeDeploy_${service}-${environment}_d-XXXXXXXXX`.length).toBeLessThanOrEqual(255);
      }),
      { numRuns: 300 },
    );
  });

  it('when a generated name breaks the character rule, then it is refused naming the SERVICE_NAME rule', () => {
    fc.assert(
      fc.property(
        validService,
        fc.constantFrom('A', '_', '.', ' ', '/', '--', '@'),
        fc.nat(),
        (service, bad, at) => {
          // Arrange
          const index = at % (service.length + 1);
          const name = `${service.slice(0, index)}${bad}${service.slice(index)}`;

          // Act
          const problems = serviceProblems(name);

          // Assert
          expect(problems.join('\n')).toContain('SERVICE_NAME rule');
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    ['1api', 'starting with a letter'],
    ['orders-', 'dash-separated words'],
    ['-orders', 'starting with a letter'],
    ['', 'starting with a letter'],
  ])('when the service is %j, then it is refused (%s)', (service, rule) => {
    // Act
    const problems = serviceProblems(service);

    // Assert
    expect(problems.join('\n')).toContain(rule);
  });

  it('when the service is longer than an Elastic Load Balancing name, then it is refused naming that limit', () => {
    // Act
    const problems = serviceProblems(`orders-${'x'.repeat(26)}`);

    // Assert
    expect(problems).toEqual([expect.stringContaining("an Elastic Load Balancing name's limit") as string]);
  });
});
