"""Thin adapters over AWS APIs. Each takes its boto3 client, translates errors, and makes no decisions."""
