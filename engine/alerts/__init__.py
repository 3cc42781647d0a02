"""The alert pipeline's pure logic: rules, grammar, evaluation, policy, notification events."""
