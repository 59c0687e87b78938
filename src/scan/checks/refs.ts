// Reference links, kept in one place so every check cites the same documents.
import type { Reference } from '../types.js';

const PSS_URL = 'https://kubernetes.io/docs/concepts/security/pod-security-standards/';
export const pss = (level: 'baseline' | 'restricted', control: string): Reference => ({
  label: `PSS ${level}: ${control}`,
  url: `${PSS_URL}#${level}`,
});
export const cis = (id: string, title: string): Reference => ({
  label: `CIS Kubernetes Benchmark ${id}: ${title}`,
  url: 'https://www.cisecurity.org/benchmark/kubernetes',
});
export const nsa = (section: string): Reference => ({
  label: `NSA/CISA Kubernetes Hardening Guide: ${section}`,
  url: 'https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF',
});
export const k8sDoc = (label: string, path: string): Reference => ({
  label,
  url: `https://kubernetes.io/docs/${path}`,
});
export const cisAws = (id: string, title: string): Reference => ({
  label: `CIS AWS Foundations Benchmark ${id}: ${title}`,
  url: 'https://www.cisecurity.org/benchmark/amazon_web_services',
});
export const awsDoc = (label: string, url: string): Reference => ({ label, url });
