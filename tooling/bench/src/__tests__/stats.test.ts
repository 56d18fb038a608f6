import { goal } from '../report';
import { interleave, ratio, summarize } from '../stats';

describe('summarize', () => {
  it('when given an odd number of samples, then the median is the middle one and min/max are the extremes', () => {
    const summary = summarize([5, 1, 9]);

    expect(summary).toMatchObject({ median: 5, min: 1, max: 9, samples: [5, 1, 9] });
  });

  it('when given an even number of samples, then the median is the mean of the middle two', () => {
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
  });

  it('when given no samples, then it throws instead of reporting a figure', () => {
    expect(() => summarize([])).toThrow('no samples');
  });

  it('when comparing two summaries, then the ratio is of their medians', () => {
    expect(ratio(summarize([1, 2, 100]), summarize([4, 4, 4]))).toBe(0.5);
  });
});

describe('interleave', () => {
  it('when running three variants three times, then each repetition starts with a different variant', async () => {
    const order: string[] = [];
    const variants = ['a', 'b', 'c'].map((name) => ({ name, run: () => Promise.resolve(order.push(name)) }));

    const results = await interleave(variants, 3);

    expect(order).toEqual(['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    expect([...results.values()].map((samples) => samples.length)).toEqual([3, 3, 3]);
  });
});

describe('goal', () => {
  it.each([
    [0.79, '≥ 0.8', false],
    [0.8, '≥ 0.8', true],
    [0.05, '≤ 0.05', true],
    [0.051, '≤ 0.05', false],
    [0, '= 0', true],
    [1, '= 0', false],
  ])('when the value is %p against %p, then met is %p', (value, target, met) => {
    expect(goal('figure', value, target).met).toBe(met);
  });

  it('when the target is not a comparison, then it throws naming the goal', () => {
    expect(() => goal('throughput', 1, 'fast')).toThrow('goal "throughput"');
  });
});
