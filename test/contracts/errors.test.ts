/**
 * The shared revert decoder (@hexmesh/contracts): every custom error of every deployed contract
 * decodes by name with named arguments, from raw data or from wherever ethers, viem or a JSON-RPC
 * node put it; data that is not ours says so.
 */
import { expect } from "chai";
import { ErrorFragment, Interface } from "ethers";

import {
  ContractRevertError,
  DataTransferSettlement__factory,
  decodeContractError,
  describeContractError,
  DeviceRegistry__factory,
  EmissionsController__factory,
  explainContractError,
  GovernedPrice__factory,
  MeshToken__factory,
  QuorumPrice__factory,
  revertDataOf,
  RewardsDistributor__factory,
  StakingVault__factory,
  UsageCredits__factory,
} from "@hexmesh/contracts";

describe("@hexmesh/contracts: decoding our contracts' reverts", function () {
  const abis = [
    RewardsDistributor__factory.abi,
    EmissionsController__factory.abi,
    DeviceRegistry__factory.abi,
    StakingVault__factory.abi,
    MeshToken__factory.abi,
    UsageCredits__factory.abi,
    GovernedPrice__factory.abi,
    QuorumPrice__factory.abi,
    DataTransferSettlement__factory.abi,
  ];

  it("decodes every custom error of every deployed contract by name, with its arguments", function () {
    let count = 0;
    for (const abi of abis) {
      const iface = new Interface(abi);
      for (const f of iface.fragments) {
        if (!(f instanceof ErrorFragment)) continue;
        const values = f.inputs.map((p) =>
          p.baseType === "address"
            ? "0x00000000000000000000000000000000000000aa"
            : p.baseType.startsWith("bytes")
              ? `0x${"11".repeat(p.baseType === "bytes" ? 3 : Number(p.baseType.slice(5)))}`
              : p.baseType === "bool"
                ? true
                : p.baseType === "string"
                  ? "x"
                  : 1,
        );
        const decoded = decodeContractError(iface.encodeErrorResult(f, values));
        expect(decoded, f.format()).to.not.equal(null);
        expect(decoded!.name).to.equal(f.name);
        expect(Object.keys(decoded!.args)).to.have.length(f.inputs.length);
        count++;
      }
    }
    expect(count).to.be.greaterThan(80);
  });

  it("finds the data inside ethers, viem and JSON-RPC errors, and names the fix", function () {
    const iface = new Interface(RewardsDistributor__factory.abi);
    const data = iface.encodeErrorResult("DistributorEpochNotFunded", [7]);
    const ethersError = {
      code: "CALL_EXCEPTION",
      data,
      message: "execution reverted (unknown custom error)",
    };
    const viemError = { name: "ContractFunctionExecutionError", cause: { cause: { data: { data } } } };
    const rpcError = { info: { error: { code: 3, message: "execution reverted", data } } };
    for (const e of [ethersError, viemError, rpcError]) {
      expect(revertDataOf(e)).to.equal(data);
      expect(describeContractError(e)).to.equal(
        "DistributorEpochNotFunded(epoch=7): epoch 7 has not been distributed by the emissions controller yet: run `npx hardhat hexmesh catch-up` (or EmissionsController.distribute), then post again",
      );
    }
    const wrapped = explainContractError(ethersError);
    expect(wrapped).to.be.instanceOf(ContractRevertError);
    expect((wrapped as ContractRevertError).decoded.args).to.deep.equal({ epoch: "7" });
    expect((wrapped as Error).cause).to.equal(ethersError);
  });

  it("decodes require messages and panics; leaves other errors and foreign data as they are", function () {
    const std = new Interface(["error Error(string)", "error Panic(uint256)"]);
    expect(decodeContractError(std.encodeErrorResult("Error", ["nope"]))?.text).to.equal("Error(arg0=nope)");
    expect(decodeContractError(std.encodeErrorResult("Panic", [0x11]))?.text).to.equal("Panic(arg0=17)");
    const plain = new Error("connection refused");
    expect(decodeContractError(plain)).to.equal(null);
    expect(describeContractError(plain)).to.equal("connection refused");
    expect(explainContractError(plain)).to.equal(plain);
    const foreign = Object.assign(new Error("execution reverted"), { data: "0xdeadbeef00" });
    expect(describeContractError(foreign)).to.equal(
      "execution reverted (revert data 0xdeadbeef00 matches no error of the Hexmesh contracts)",
    );
  });
});
