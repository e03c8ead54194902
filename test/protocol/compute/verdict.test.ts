import { expect } from "chai";
import { TypedDataEncoder, Wallet } from "ethers";

import {
  checkFraudVerdict,
  computeJobsDomain,
  FRAUD_VERDICT_TYPES,
  FraudReason,
  fraudVerdictDigest,
  fraudVerdictStructHash,
  type FraudVerdict,
} from "@hexmesh/protocol";

import { deployCompute } from "../../helpers/compute.js";
import { createRegistryNetwork } from "../../helpers/registryFixture.js";

const { ethers, networkHelpers } = await createRegistryNetwork();

const VERDICT: FraudVerdict = {
  jobId: 42n,
  provider: "0x" + "ab".repeat(20),
  reason: FraudReason.WrongResult,
  evidenceHash: "0x" + "e1".repeat(32),
  prover: "0x" + "cd".repeat(20),
  oracleSetVersion: 3n,
  deadline: 1_900_000_000n,
};

describe("protocol: compute FraudVerdict (EIP-712)", function () {
  it("hashes as ethers' TypedDataEncoder and as ComputeJobs.verdictDigest, for every reason", async function () {
    const { jobs } = await deployCompute(ethers, networkHelpers);
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const address = await jobs.getAddress();
    const domain = computeJobsDomain(chainId, address);
    expect(await jobs.FRAUD_VERDICT_TYPEHASH()).to.equal(
      ethers.keccak256(
        ethers.toUtf8Bytes(TypedDataEncoder.from(FRAUD_VERDICT_TYPES).encodeType("FraudVerdict")),
      ),
    );
    for (const reason of Object.values(FraudReason)) {
      const verdict = { ...VERDICT, reason, jobId: VERDICT.jobId + BigInt(reason) };
      const ts = fraudVerdictDigest(domain, verdict);
      const ethersDomain = {
        name: domain.name,
        version: domain.version,
        chainId,
        verifyingContract: address,
      };
      expect(ts).to.equal(TypedDataEncoder.hash(ethersDomain, FRAUD_VERDICT_TYPES, verdict));
      expect(ts).to.equal(await jobs.verdictDigest(verdict));
      expect(fraudVerdictStructHash(verdict)).to.equal(
        TypedDataEncoder.hashStruct("FraudVerdict", FRAUD_VERDICT_TYPES, verdict),
      );
    }
  });

  it("binds the chain and the contract, and accepts checksummed addresses", function () {
    const wallet = Wallet.createRandom();
    const a = fraudVerdictDigest(computeJobsDomain(1n, wallet.address), VERDICT);
    expect(fraudVerdictDigest(computeJobsDomain(2n, wallet.address), VERDICT)).to.not.equal(a);
    expect(fraudVerdictDigest(computeJobsDomain(1n, "0x" + "11".repeat(20)), VERDICT)).to.not.equal(a);
    const checksummed = { ...VERDICT, provider: ethers.getAddress(VERDICT.provider) };
    expect(fraudVerdictDigest(computeJobsDomain(1n, wallet.address.toLowerCase()), checksummed)).to.equal(a);
  });

  it("refuses what the contract refuses for its shape", function () {
    const bad: [Partial<FraudVerdict>, RegExp][] = [
      [{ reason: 0 as FraudReason }, /fraud reason must be 1..3/],
      [{ reason: 4 as FraudReason }, /fraud reason must be 1..3/],
      [{ provider: "0x" + "00".repeat(20) }, /bad provider/],
      [{ provider: "0x12" }, /bad provider/],
      [{ prover: "0x" + "00".repeat(20) }, /bad prover/],
      [{ evidenceHash: "0x" + "00".repeat(32) }, /evidenceHash must be nonzero/],
      [{ jobId: 0n }, /jobId out of range/],
      [{ oracleSetVersion: 1n << 64n }, /oracleSetVersion out of range/],
      [{ deadline: -1n }, /deadline out of range/],
    ];
    for (const [change, error] of bad)
      expect(() => checkFraudVerdict({ ...VERDICT, ...change })).to.throw(error);
  });
});
