import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface NotificationTopicProps {
  /** Shown as the sender of the emails. */
  readonly displayName: string;
  /** Each address gets a subscription it must confirm from the email AWS sends. */
  readonly emails: readonly string[];
}

/**
 * An SNS topic people subscribe to by email.
 *
 * Publishing requires TLS. The topic is not encrypted with KMS: CloudWatch
 * alarms and CodeStar Notifications cannot publish to a topic encrypted with
 * the AWS-managed SNS key, a customer-managed key would need a key-policy
 * grant per publishing service, and the messages carry no secrets (alarm
 * states, pipeline and execution names).
 */
export class NotificationTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationTopicProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: props.displayName,
      enforceSSL: true,
    });
    for (const email of props.emails) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }
}
