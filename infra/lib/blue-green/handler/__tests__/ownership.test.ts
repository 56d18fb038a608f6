import fc from 'fast-check';

import { deploymentGroupArn, ownerIdFor } from '../ownership';

const stackId = (name: string, uuid: string): string => `arn:aws:cloudformation:eu-west-1:123456789012:stack/${name}/${uuid}`;
const stackName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,127}$/);
const logicalId = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,254}$/);

describe('ownerIdFor', () => {
  it('when a stack and logical id are given, then the id reads <stack name>/<stack uuid>/<logical id>', () => {
    expect(ownerIdFor({ StackId: stackId('shop-live', '6c9a1e40-0f5a'), LogicalResourceId: 'FleetB' })).toBe('shop-live/6c9a1e40-0f5a/FleetB');
  });

  it('when any two resources differ in stack (name or uuid) or logical id, then their ids differ, and every id fits a tag value', () => {
    fc.assert(
      fc.property(stackName, fc.uuid(), logicalId, stackName, fc.uuid(), logicalId, (name1, uuid1, id1, name2, uuid2, id2) => {
        const a = ownerIdFor({ StackId: stackId(name1, uuid1), LogicalResourceId: id1 });
        const b = ownerIdFor({ StackId: stackId(name2, uuid2), LogicalResourceId: id2 });
        expect(a.length).toBeLessThanOrEqual(256);
        expect(a === b).toBe(name1 === name2 && uuid1 === uuid2 && id1 === id2);
      }),
    );
  });
});

describe('deploymentGroupArn', () => {
  it("when the stack is in a partition, region and account, then the deployment group's ARN is in the same", () => {
    expect(deploymentGroupArn('arn:aws-cn:cloudformation:cn-north-1:210987654321:stack/s/u', 'shop', 'shop-live')).toBe(
      'arn:aws-cn:codedeploy:cn-north-1:210987654321:deploymentgroup:shop/shop-live',
    );
  });
});
