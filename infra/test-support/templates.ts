import type { Template } from 'aws-cdk-lib/assertions';

/** A template's resources by logical id, as the assertions library returns them. */
export type TemplateResources = Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;

/** A string property CloudFormation may hold as `Fn::Join` (it holds tokens), joined back into one string. */
export function joinedString(value: string | { 'Fn::Join': [string, unknown[]] }): string {
  if (typeof value === 'string') return value;
  const [, parts] = value['Fn::Join'];
  return parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
}

/** The user data of the template's one launch template, as one string. */
export function userDataOf(template: Template): string {
  const [launchTemplate] = Object.values(template.findResources('AWS::EC2::LaunchTemplate') as TemplateResources);
  if (launchTemplate === undefined) throw new Error('the template has no launch template');
  return joinedString((launchTemplate.Properties.LaunchTemplateData as { UserData: { 'Fn::Base64': string | { 'Fn::Join': [string, unknown[]] } } }).UserData['Fn::Base64']);
}
