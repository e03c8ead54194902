import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { network } from "hardhat";

import type { MeshToken } from "../../typechain-types/index.js";

const { ethers, networkHelpers } = await network.create();

const MESH = (n: bigint | number) => ethers.parseEther(n.toString());
const CAP = MESH(1_000_000_000n);
const GENESIS = MESH(300_000_000n);

async function deployToken() {
  const [deployer, treasury, minter, alice, bob] = await ethers.getSigners();
  const token = (await ethers.deployContract("MeshToken", [
    treasury!.address,
    GENESIS,
    deployer!.address,
  ])) as unknown as MeshToken;
  return { token, deployer: deployer!, treasury: treasury!, minter: minter!, alice: alice!, bob: bob! };
}

async function deployWithMinter() {
  const fx = await deployToken();
  await fx.token.connect(fx.deployer).setMinter(fx.minter.address);
  return fx;
}

async function signPermit(
  token: MeshToken,
  owner: HardhatEthersSigner,
  spender: string,
  value: bigint,
  deadline: bigint,
  overrides: { chainId?: bigint; verifyingContract?: string; nonce?: bigint } = {},
) {
  const { chainId } = await ethers.provider.getNetwork();
  const domain = {
    name: await token.name(),
    version: "1",
    chainId: overrides.chainId ?? chainId,
    verifyingContract: overrides.verifyingContract ?? (await token.getAddress()),
  };
  const types = {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  };
  const nonce = overrides.nonce ?? (await token.nonces(owner.address));
  const sig = ethers.Signature.from(
    await owner.signTypedData(domain, types, { owner: owner.address, spender, value, nonce, deadline }),
  );
  return sig;
}

describe("MeshToken", function () {
  describe("deployment", function () {
    it("has the MESH metadata, the 1B cap and the genesis allocation at the treasury", async function () {
      const { token, treasury, deployer } = await networkHelpers.loadFixture(deployToken);
      expect(await token.name()).to.equal("Hexmesh");
      expect(await token.symbol()).to.equal("MESH");
      expect(await token.decimals()).to.equal(18n);
      expect(await token.cap()).to.equal(CAP);
      expect(await token.MAX_SUPPLY()).to.equal(CAP);
      expect(await token.totalSupply()).to.equal(GENESIS);
      expect(await token.balanceOf(treasury.address)).to.equal(GENESIS);
      expect(await token.minter()).to.equal(ethers.ZeroAddress);
      expect(await token.minterAdmin()).to.equal(deployer.address);
    });

    it("allows a zero genesis allocation and a genesis equal to the cap", async function () {
      const [deployer, treasury] = await ethers.getSigners();
      const zero = await ethers.deployContract("MeshToken", [treasury!.address, 0n, deployer!.address]);
      expect(await zero.totalSupply()).to.equal(0n);
      const full = await ethers.deployContract("MeshToken", [treasury!.address, CAP, deployer!.address]);
      expect(await full.totalSupply()).to.equal(CAP);
    });

    it("rejects a zero treasury, a zero minter admin and a genesis above the cap", async function () {
      const [deployer, treasury] = await ethers.getSigners();
      const factory = await ethers.getContractFactory("MeshToken");
      await expect(
        factory.deploy(ethers.ZeroAddress, GENESIS, deployer!.address),
      ).to.be.revertedWithCustomError(factory, "MeshZeroAddress");
      await expect(
        factory.deploy(treasury!.address, GENESIS, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(factory, "MeshZeroAddress");
      await expect(factory.deploy(treasury!.address, CAP + 1n, deployer!.address))
        .to.be.revertedWithCustomError(factory, "MeshGenesisExceedsCap")
        .withArgs(CAP + 1n, CAP);
    });
  });

  describe("setMinter", function () {
    it("sets the minter once, emits MinterSet and spends the admin's power", async function () {
      const { token, deployer, minter } = await networkHelpers.loadFixture(deployToken);
      await expect(token.connect(deployer).setMinter(minter.address))
        .to.emit(token, "MinterSet")
        .withArgs(minter.address);
      expect(await token.minter()).to.equal(minter.address);
      expect(await token.minterAdmin()).to.equal(ethers.ZeroAddress);
    });

    it("refuses a second call, even by the former admin", async function () {
      const { token, deployer, alice } = await networkHelpers.loadFixture(deployWithMinter);
      await expect(token.connect(deployer).setMinter(alice.address))
        .to.be.revertedWithCustomError(token, "MeshUnauthorizedMinterAdmin")
        .withArgs(deployer.address);
    });

    it("refuses any caller but the minter admin", async function () {
      const { token, alice } = await networkHelpers.loadFixture(deployToken);
      await expect(token.connect(alice).setMinter(alice.address))
        .to.be.revertedWithCustomError(token, "MeshUnauthorizedMinterAdmin")
        .withArgs(alice.address);
    });

    it("refuses the zero address", async function () {
      const { token, deployer } = await networkHelpers.loadFixture(deployToken);
      await expect(token.connect(deployer).setMinter(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        token,
        "MeshZeroAddress",
      );
    });
  });

  describe("mint", function () {
    it("lets the minter mint up to the cap exactly", async function () {
      const { token, minter, alice } = await networkHelpers.loadFixture(deployWithMinter);
      await expect(token.connect(minter).mint(alice.address, CAP - GENESIS))
        .to.emit(token, "Transfer")
        .withArgs(ethers.ZeroAddress, alice.address, CAP - GENESIS);
      expect(await token.totalSupply()).to.equal(CAP);
    });

    it("refuses a mint past the cap", async function () {
      const { token, minter, alice } = await networkHelpers.loadFixture(deployWithMinter);
      await expect(token.connect(minter).mint(alice.address, CAP - GENESIS + 1n))
        .to.be.revertedWithCustomError(token, "ERC20ExceededCap")
        .withArgs(CAP + 1n, CAP);
    });

    it("refuses a mint past the cap after burns freed room only up to the cap", async function () {
      const { token, minter, treasury, alice } = await networkHelpers.loadFixture(deployWithMinter);
      await token.connect(minter).mint(alice.address, CAP - GENESIS);
      await token.connect(treasury).burn(MESH(10));
      await token.connect(minter).mint(alice.address, MESH(10));
      await expect(token.connect(minter).mint(alice.address, 1n)).to.be.revertedWithCustomError(
        token,
        "ERC20ExceededCap",
      );
    });

    it("refuses any caller but the minter, before and after the minter is set", async function () {
      const fx = await networkHelpers.loadFixture(deployToken);
      await expect(fx.token.connect(fx.deployer).mint(fx.alice.address, 1n))
        .to.be.revertedWithCustomError(fx.token, "MeshUnauthorizedMinter")
        .withArgs(fx.deployer.address);
      await fx.token.connect(fx.deployer).setMinter(fx.minter.address);
      await expect(fx.token.connect(fx.alice).mint(fx.alice.address, 1n))
        .to.be.revertedWithCustomError(fx.token, "MeshUnauthorizedMinter")
        .withArgs(fx.alice.address);
    });

    it("refuses minting to the zero address", async function () {
      const { token, minter } = await networkHelpers.loadFixture(deployWithMinter);
      await expect(token.connect(minter).mint(ethers.ZeroAddress, 1n)).to.be.revertedWithCustomError(
        token,
        "ERC20InvalidReceiver",
      );
    });
  });

  describe("ERC-20 transfers and allowances", function () {
    it("transfers, approves and transfers from", async function () {
      const { token, treasury, alice, bob } = await networkHelpers.loadFixture(deployToken);
      await expect(token.connect(treasury).transfer(alice.address, MESH(100)))
        .to.emit(token, "Transfer")
        .withArgs(treasury.address, alice.address, MESH(100));
      await expect(token.connect(alice).approve(bob.address, MESH(40)))
        .to.emit(token, "Approval")
        .withArgs(alice.address, bob.address, MESH(40));
      await token.connect(bob).transferFrom(alice.address, bob.address, MESH(40));
      expect(await token.balanceOf(alice.address)).to.equal(MESH(60));
      expect(await token.balanceOf(bob.address)).to.equal(MESH(40));
      expect(await token.allowance(alice.address, bob.address)).to.equal(0n);
    });

    it("refuses transfers above the balance and transferFrom above the allowance", async function () {
      const { token, treasury, alice, bob } = await networkHelpers.loadFixture(deployToken);
      await expect(token.connect(alice).transfer(bob.address, 1n)).to.be.revertedWithCustomError(
        token,
        "ERC20InsufficientBalance",
      );
      await token.connect(treasury).approve(bob.address, 5n);
      await expect(
        token.connect(bob).transferFrom(treasury.address, bob.address, 6n),
      ).to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance");
    });
  });

  describe("burn", function () {
    it("burns the caller's tokens and lowers supply", async function () {
      const { token, treasury } = await networkHelpers.loadFixture(deployToken);
      await expect(token.connect(treasury).burn(MESH(1)))
        .to.emit(token, "Transfer")
        .withArgs(treasury.address, ethers.ZeroAddress, MESH(1));
      expect(await token.totalSupply()).to.equal(GENESIS - MESH(1));
    });

    it("burnFrom spends the allowance and refuses beyond it", async function () {
      const { token, treasury, alice } = await networkHelpers.loadFixture(deployToken);
      await token.connect(treasury).approve(alice.address, MESH(2));
      await token.connect(alice).burnFrom(treasury.address, MESH(2));
      expect(await token.totalSupply()).to.equal(GENESIS - MESH(2));
      await expect(token.connect(alice).burnFrom(treasury.address, 1n)).to.be.revertedWithCustomError(
        token,
        "ERC20InsufficientAllowance",
      );
    });

    it("refuses burning more than the balance", async function () {
      const { token, alice } = await networkHelpers.loadFixture(deployToken);
      await expect(token.connect(alice).burn(1n)).to.be.revertedWithCustomError(
        token,
        "ERC20InsufficientBalance",
      );
    });
  });

  describe("permit (EIP-2612)", function () {
    it("sets an allowance from a signature and bumps the nonce", async function () {
      const { token, treasury, alice } = await networkHelpers.loadFixture(deployToken);
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const sig = await signPermit(token, treasury, alice.address, MESH(5), deadline);
      await expect(
        token.connect(alice).permit(treasury.address, alice.address, MESH(5), deadline, sig.v, sig.r, sig.s),
      )
        .to.emit(token, "Approval")
        .withArgs(treasury.address, alice.address, MESH(5));
      expect(await token.allowance(treasury.address, alice.address)).to.equal(MESH(5));
      expect(await token.nonces(treasury.address)).to.equal(1n);
    });

    it("exposes the EIP-712 domain that binds chain and contract", async function () {
      const { token } = await networkHelpers.loadFixture(deployToken);
      const domain = await token.eip712Domain();
      const { chainId } = await ethers.provider.getNetwork();
      expect(domain.name).to.equal("Hexmesh");
      expect(domain.version).to.equal("1");
      expect(domain.chainId).to.equal(chainId);
      expect(domain.verifyingContract).to.equal(await token.getAddress());
    });

    it("refuses an expired permit", async function () {
      const { token, treasury, alice } = await networkHelpers.loadFixture(deployToken);
      const deadline = BigInt(await networkHelpers.time.latest()) - 1n;
      const sig = await signPermit(token, treasury, alice.address, 1n, deadline);
      await expect(token.permit(treasury.address, alice.address, 1n, deadline, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(token, "ERC2612ExpiredSignature")
        .withArgs(deadline);
    });

    it("refuses a replayed permit", async function () {
      const { token, treasury, alice } = await networkHelpers.loadFixture(deployToken);
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const sig = await signPermit(token, treasury, alice.address, 1n, deadline);
      await token.permit(treasury.address, alice.address, 1n, deadline, sig.v, sig.r, sig.s);
      await expect(
        token.permit(treasury.address, alice.address, 1n, deadline, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(token, "ERC2612InvalidSigner");
    });

    it("refuses a permit signed for another chain", async function () {
      const { token, treasury, alice } = await networkHelpers.loadFixture(deployToken);
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const sig = await signPermit(token, treasury, alice.address, 1n, deadline, { chainId: 11155111n });
      await expect(
        token.permit(treasury.address, alice.address, 1n, deadline, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(token, "ERC2612InvalidSigner");
    });

    it("refuses a permit signed for another deployment of the token", async function () {
      const { token, treasury, alice, deployer } = await networkHelpers.loadFixture(deployToken);
      const other = (await ethers.deployContract("MeshToken", [
        treasury.address,
        GENESIS,
        deployer.address,
      ])) as unknown as MeshToken;
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const sig = await signPermit(token, treasury, alice.address, 1n, deadline, {
        verifyingContract: await other.getAddress(),
      });
      await expect(
        token.permit(treasury.address, alice.address, 1n, deadline, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(token, "ERC2612InvalidSigner");
    });

    it("refuses a permit whose signer is not the owner, or whose value was altered", async function () {
      const { token, treasury, alice } = await networkHelpers.loadFixture(deployToken);
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const forged = await signPermit(token, alice, alice.address, 1n, deadline, {
        nonce: await token.nonces(treasury.address),
      });
      await expect(
        token.permit(treasury.address, alice.address, 1n, deadline, forged.v, forged.r, forged.s),
      ).to.be.revertedWithCustomError(token, "ERC2612InvalidSigner");
      const sig = await signPermit(token, treasury, alice.address, 1n, deadline);
      await expect(
        token.permit(treasury.address, alice.address, 2n, deadline, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(token, "ERC2612InvalidSigner");
    });
  });

  describe("votes (ERC-5805, timestamp clock)", function () {
    it("uses the block timestamp as its clock", async function () {
      const { token } = await networkHelpers.loadFixture(deployToken);
      expect(await token.CLOCK_MODE()).to.equal("mode=timestamp");
      const block = await ethers.provider.getBlock("latest");
      expect(await token.clock()).to.equal(BigInt(block!.timestamp));
    });

    it("tracks delegated votes and their history by timestamp", async function () {
      const { token, treasury, alice, bob } = await networkHelpers.loadFixture(deployToken);
      expect(await token.getVotes(treasury.address)).to.equal(0n);
      await expect(token.connect(treasury).delegate(alice.address))
        .to.emit(token, "DelegateChanged")
        .withArgs(treasury.address, ethers.ZeroAddress, alice.address);
      const t1 = await networkHelpers.time.latest();
      expect(await token.getVotes(alice.address)).to.equal(GENESIS);
      expect(await token.delegates(treasury.address)).to.equal(alice.address);
      await networkHelpers.time.increase(10);
      await token.connect(treasury).transfer(bob.address, MESH(1));
      await networkHelpers.time.increase(10);
      expect(await token.getPastVotes(alice.address, t1)).to.equal(GENESIS);
      expect(await token.getVotes(alice.address)).to.equal(GENESIS - MESH(1));
      expect(await token.getPastTotalSupply(t1)).to.equal(GENESIS);
      expect(await token.numCheckpoints(alice.address)).to.equal(2n);
      await expect(
        token.getPastVotes(alice.address, (await networkHelpers.time.latest()) + 1),
      ).to.be.revertedWithCustomError(token, "ERC5805FutureLookup");
    });

    it("delegates by signature, and refuses an expired or replayed one", async function () {
      const { token, treasury, alice } = await networkHelpers.loadFixture(deployToken);
      const { chainId } = await ethers.provider.getNetwork();
      const domain = { name: "Hexmesh", version: "1", chainId, verifyingContract: await token.getAddress() };
      const types = {
        Delegation: [
          { name: "delegatee", type: "address" },
          { name: "nonce", type: "uint256" },
          { name: "expiry", type: "uint256" },
        ],
      };
      const now = BigInt(await networkHelpers.time.latest());
      const expired = ethers.Signature.from(
        await treasury.signTypedData(domain, types, {
          delegatee: alice.address,
          nonce: 0n,
          expiry: now - 1n,
        }),
      );
      await expect(
        token.delegateBySig(alice.address, 0n, now - 1n, expired.v, expired.r, expired.s),
      ).to.be.revertedWithCustomError(token, "VotesExpiredSignature");
      const sig = ethers.Signature.from(
        await treasury.signTypedData(domain, types, {
          delegatee: alice.address,
          nonce: 0n,
          expiry: now + 600n,
        }),
      );
      await token.delegateBySig(alice.address, 0n, now + 600n, sig.v, sig.r, sig.s);
      expect(await token.delegates(treasury.address)).to.equal(alice.address);
      await expect(
        token.delegateBySig(alice.address, 0n, now + 600n, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(token, "InvalidAccountNonce");
    });
  });
});
