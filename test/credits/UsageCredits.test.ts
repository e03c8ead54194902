import { expect } from "chai";
import { keccak256, toUtf8Bytes, ZeroAddress } from "ethers";
import { network } from "hardhat";

import { creditsDomain, creditsForMesh, encodeType, SPENDER_APPROVAL_TYPES } from "@hexmesh/protocol";

import type { ERC1271WalletMock, GovernedPrice } from "../../typechain-types/index.js";
import {
  buy,
  deployCredits,
  MESH,
  PRICE,
  signSpenderApproval,
  SUBNET_COMPUTE,
  SUBNET_COVERAGE,
  UNLIMITED,
  USD,
} from "../helpers/credits.js";
import { signPermit } from "../helpers/staking.js";

const { ethers, networkHelpers } = await network.create();
const { time, loadFixture } = networkHelpers;

const base = () => deployCredits(ethers);
/** `account` holds 1,000,000 credits ($1; 20 MESH at $0.05) and gave `spender` 600,000. */
async function funded() {
  const fx = await deployCredits(ethers);
  await buy(fx, MESH(20), fx.account.address);
  await fx.credits.connect(fx.account).approveSpender(fx.spender.address, 600_000n);
  return fx;
}

describe("UsageCredits", function () {
  describe("buying", function () {
    it("burns the buyer's MESH for micro-USD credits at the conservative price, for a beneficiary", async function () {
      const fx = await loadFixture(base);
      const creditsAddr = await fx.credits.getAddress();
      await fx.token.connect(fx.buyer).approve(creditsAddr, MESH(3));
      const expected = creditsForMesh(MESH(3), PRICE);
      expect(expected).to.equal(150_000n); // 3 MESH x $0.05 = $0.15
      expect(await fx.credits.quote(MESH(3))).to.equal(expected);
      await expect(fx.credits.connect(fx.buyer).burnForCredits(MESH(3), expected, fx.account.address))
        .to.emit(fx.credits, "CreditsBought")
        .withArgs(fx.buyer.address, fx.account.address, MESH(3), expected, PRICE);
      expect(await fx.credits.balanceOf(fx.account.address)).to.equal(expected);
      expect(await fx.credits.balanceOf(fx.buyer.address)).to.equal(0n);
      expect(await fx.credits.totalBought()).to.equal(expected);
      expect(await fx.token.balanceOf(creditsAddr)).to.equal(MESH(3));

      // The collected MESH is burned by anyone, in one batch; supply falls by exactly that.
      const supply = await fx.token.totalSupply();
      await expect(fx.credits.connect(fx.outsider).burnCollected())
        .to.emit(fx.credits, "CollectedMeshBurned")
        .withArgs(fx.outsider.address, MESH(3));
      expect(await fx.token.totalSupply()).to.equal(supply - MESH(3));
      await expect(fx.credits.burnCollected()).to.be.revertedWithCustomError(
        fx.credits,
        "CreditsNothingToBurn",
      );
    });

    it("refuses a result under minCredits, zero credits and a zero beneficiary", async function () {
      const fx = await loadFixture(base);
      await fx.token.connect(fx.buyer).approve(await fx.credits.getAddress(), MESH(10));
      await expect(fx.credits.connect(fx.buyer).burnForCredits(MESH(1), 50_001n, fx.account.address))
        .to.be.revertedWithCustomError(fx.credits, "CreditsSlippage")
        .withArgs(50_000n, 50_001n);
      // 1e10 wei x $0.05 = 5e-10 USD: under one micro-USD.
      await expect(
        fx.credits.connect(fx.buyer).burnForCredits(10n ** 10n, 0n, fx.account.address),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsZeroAmount");
      await expect(
        fx.credits.connect(fx.buyer).burnForCredits(MESH(1), 0n, ZeroAddress),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsZeroAddress");
      // Without an allowance the token refuses.
      await expect(
        fx.credits.connect(fx.outsider).burnForCredits(MESH(1), 0n, fx.outsider.address),
      ).to.be.revertedWithCustomError(fx.token, "ERC20InsufficientAllowance");
    });

    it("stops buying once the price has expired, and resumes when governance updates it", async function () {
      const fx = await loadFixture(base);
      await fx.token.connect(fx.buyer).approve(await fx.credits.getAddress(), MESH(10));
      const [, updatedAt] = await fx.price.latestPrice();
      await time.increaseTo(updatedAt + 30n * 86_400n + 1n);
      await expect(fx.credits.connect(fx.buyer).burnForCredits(MESH(1), 0n, fx.account.address))
        .to.be.revertedWithCustomError(fx.price, "PriceStale")
        .withArgs(updatedAt, updatedAt + 30n * 86_400n);
      await expect(fx.credits.quote(MESH(1))).to.be.revertedWithCustomError(fx.price, "PriceStale");
      await fx.price.connect(fx.admin).setPrice(USD("0.06"));
      // The 24-hour average still holds the old price for most of the window: the lower one counts.
      await fx.credits.connect(fx.buyer).burnForCredits(MESH(1), 0n, fx.account.address);
      expect(await fx.credits.balanceOf(fx.account.address)).to.equal(50_000n);
    });

    it("buys with a permit in one transaction, and survives a front-run permit", async function () {
      const fx = await loadFixture(base);
      const creditsAddr = await fx.credits.getAddress();
      const deadline = BigInt(await time.latest()) + 3600n;
      const p = await signPermit(ethers, fx.token, fx.buyer, creditsAddr, MESH(2), deadline);
      await expect(
        fx.credits
          .connect(fx.buyer)
          .burnForCreditsWithPermit(MESH(2), 100_000n, fx.account.address, deadline, p.v, p.r, p.s),
      )
        .to.emit(fx.credits, "CreditsBought")
        .withArgs(fx.buyer.address, fx.account.address, MESH(2), 100_000n, PRICE);
      // Someone submits the next permit first: the purchase still goes through on the allowance.
      const p2 = await signPermit(ethers, fx.token, fx.buyer, creditsAddr, MESH(1), deadline);
      await fx.token.permit(fx.buyer.address, creditsAddr, MESH(1), deadline, p2.v, p2.r, p2.s);
      await fx.credits
        .connect(fx.buyer)
        .burnForCreditsWithPermit(MESH(1), 0n, fx.buyer.address, deadline, p2.v, p2.r, p2.s);
      expect(await fx.credits.balanceOf(fx.buyer.address)).to.equal(50_000n);
      // A bad permit and no allowance: the token's error.
      await expect(
        fx.credits
          .connect(fx.buyer)
          .burnForCreditsWithPermit(MESH(1), 0n, fx.buyer.address, deadline, p2.v, p2.r, p2.s),
      ).to.be.revertedWithCustomError(fx.token, "ERC20InsufficientAllowance");
    });

    it("has no way to move credits between accounts or back into MESH", async function () {
      const fx = await loadFixture(base);
      const names = fx.credits.interface.fragments
        .filter((f) => f.type === "function")
        .map((f) => (f as unknown as { name: string }).name);
      for (const forbidden of ["transfer", "transferFrom", "redeem", "withdraw", "approve"]) {
        expect(names).to.not.include(forbidden);
      }
    });
  });

  describe("spenders and allowances", function () {
    it("only governance registers and removes spenders, once each, for a non-zero subnetwork", async function () {
      const fx = await loadFixture(base);
      await expect(fx.credits.connect(fx.outsider).registerSpender(fx.spender2.address, SUBNET_COMPUTE))
        .to.be.revertedWithCustomError(fx.credits, "AccessControlUnauthorizedAccount")
        .withArgs(fx.outsider.address, "0x" + "00".repeat(32));
      await expect(
        fx.credits.connect(fx.outsider).removeSpender(fx.spender.address),
      ).to.be.revertedWithCustomError(fx.credits, "AccessControlUnauthorizedAccount");
      await expect(fx.credits.connect(fx.admin).registerSpender(fx.spender.address, SUBNET_COMPUTE))
        .to.be.revertedWithCustomError(fx.credits, "CreditsInvalidSpender")
        .withArgs(fx.spender.address, SUBNET_COMPUTE);
      await expect(
        fx.credits.connect(fx.admin).registerSpender(fx.spender2.address, "0x" + "00".repeat(32)),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsInvalidSpender");
      await expect(
        fx.credits.connect(fx.admin).registerSpender(ZeroAddress, SUBNET_COMPUTE),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsZeroAddress");
      await expect(fx.credits.connect(fx.admin).registerSpender(fx.spender2.address, SUBNET_COMPUTE))
        .to.emit(fx.credits, "SpenderRegistered")
        .withArgs(fx.spender2.address, SUBNET_COMPUTE);
      expect(await fx.credits.spenderSubnetwork(fx.spender2.address)).to.equal(SUBNET_COMPUTE);
      await expect(fx.credits.connect(fx.admin).removeSpender(fx.spender2.address))
        .to.emit(fx.credits, "SpenderRemoved")
        .withArgs(fx.spender2.address, SUBNET_COMPUTE);
      await expect(fx.credits.connect(fx.admin).removeSpender(fx.spender2.address))
        .to.be.revertedWithCustomError(fx.credits, "CreditsUnknownSpender")
        .withArgs(fx.spender2.address);
    });

    it("refuses approving, locking and consuming through an unregistered spender", async function () {
      const fx = await loadFixture(funded);
      await expect(fx.credits.connect(fx.account).approveSpender(fx.spender2.address, 1n))
        .to.be.revertedWithCustomError(fx.credits, "CreditsUnknownSpender")
        .withArgs(fx.spender2.address);
      const c = fx.credits.connect(fx.spender2);
      await expect(c.lock(fx.account.address, 1n)).to.be.revertedWithCustomError(
        fx.credits,
        "CreditsUnknownSpender",
      );
      await expect(c.release(fx.account.address, 1n)).to.be.revertedWithCustomError(
        fx.credits,
        "CreditsUnknownSpender",
      );
      await expect(c.consume(fx.account.address, 1n, fx.outsider.address, 1n)).to.be.revertedWithCustomError(
        fx.credits,
        "CreditsUnknownSpender",
      );
      await expect(
        c.consumeLocked(fx.account.address, 1n, fx.outsider.address, 1n),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsUnknownSpender");
    });

    it("consumes within allowance and balance and records the usage", async function () {
      const fx = await loadFixture(funded);
      const c = fx.credits.connect(fx.spender);
      await expect(c.consume(fx.account.address, 7n, fx.outsider.address, 100_000n))
        .to.emit(fx.credits, "UsageRecorded")
        .withArgs(SUBNET_COVERAGE, 7n, fx.outsider.address, 100_000n, fx.account.address);
      expect(await fx.credits.balanceOf(fx.account.address)).to.equal(900_000n);
      expect(await fx.credits.allowance(fx.account.address, fx.spender.address)).to.equal(500_000n);
      expect(await fx.credits.totalConsumed()).to.equal(100_000n);
      await expect(c.consume(fx.account.address, 7n, fx.outsider.address, 500_001n))
        .to.be.revertedWithCustomError(fx.credits, "CreditsInsufficientAllowance")
        .withArgs(fx.account.address, fx.spender.address, 500_000n, 500_001n);
      await expect(c.consume(fx.account.address, 7n, fx.outsider.address, 0n)).to.be.revertedWithCustomError(
        fx.credits,
        "CreditsZeroAmount",
      );
      // Unlimited allowance, but never past the balance.
      await fx.credits.connect(fx.account).approveSpender(fx.spender.address, UNLIMITED);
      await expect(c.consume(fx.account.address, 7n, fx.outsider.address, 900_001n))
        .to.be.revertedWithCustomError(fx.credits, "CreditsInsufficientBalance")
        .withArgs(fx.account.address, 900_000n, 900_001n);
      await c.consume(fx.account.address, 8n, fx.outsider.address, 900_000n);
      expect(await fx.credits.allowance(fx.account.address, fx.spender.address)).to.equal(UNLIMITED);
      expect(await fx.credits.balanceOf(fx.account.address)).to.equal(0n);
      // A uint256 max approval is stored as unlimited.
      await expect(fx.credits.connect(fx.account).approveSpender(fx.spender.address, 2n ** 256n - 1n))
        .to.emit(fx.credits, "SpenderApproved")
        .withArgs(fx.account.address, fx.spender.address, UNLIMITED);
    });

    it("locks, releases and consumes from the lock; a release gives the allowance back", async function () {
      const fx = await loadFixture(funded);
      const c = fx.credits.connect(fx.spender);
      await expect(c.lock(fx.account.address, 400_000n))
        .to.emit(fx.credits, "CreditsLocked")
        .withArgs(fx.account.address, fx.spender.address, 400_000n);
      expect(await fx.credits.locked(fx.account.address, fx.spender.address)).to.equal(400_000n);
      expect(await fx.credits.balanceOf(fx.account.address)).to.equal(600_000n);
      expect(await fx.credits.allowance(fx.account.address, fx.spender.address)).to.equal(200_000n);
      await expect(c.lock(fx.account.address, 200_001n)).to.be.revertedWithCustomError(
        fx.credits,
        "CreditsInsufficientAllowance",
      );
      await expect(c.consumeLocked(fx.account.address, 3n, fx.outsider.address, 150_000n))
        .to.emit(fx.credits, "UsageRecorded")
        .withArgs(SUBNET_COVERAGE, 3n, fx.outsider.address, 150_000n, fx.account.address);
      await expect(c.consumeLocked(fx.account.address, 3n, fx.outsider.address, 250_001n))
        .to.be.revertedWithCustomError(fx.credits, "CreditsInsufficientLocked")
        .withArgs(fx.account.address, fx.spender.address, 250_000n, 250_001n);
      await expect(
        c.consumeLocked(fx.account.address, 3n, fx.outsider.address, 0n),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsZeroAmount");
      await expect(c.release(fx.account.address, 250_001n)).to.be.revertedWithCustomError(
        fx.credits,
        "CreditsInsufficientLocked",
      );
      await expect(c.release(fx.account.address, 0n)).to.be.revertedWithCustomError(
        fx.credits,
        "CreditsZeroAmount",
      );
      await expect(c.release(fx.account.address, 250_000n))
        .to.emit(fx.credits, "CreditsReleased")
        .withArgs(fx.account.address, fx.spender.address, 250_000n);
      expect(await fx.credits.balanceOf(fx.account.address)).to.equal(850_000n);
      expect(await fx.credits.allowance(fx.account.address, fx.spender.address)).to.equal(450_000n);
      expect(await fx.credits.totalConsumed()).to.equal(150_000n);
      // Another spender cannot touch this spender's lock.
      await fx.credits.connect(fx.admin).registerSpender(fx.spender2.address, SUBNET_COMPUTE);
      await c.lock(fx.account.address, 10n);
      await expect(
        fx.credits.connect(fx.spender2).consumeLocked(fx.account.address, 3n, fx.outsider.address, 10n),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsInsufficientLocked");
    });

    it("an unlimited allowance stays unlimited through lock and release", async function () {
      const fx = await loadFixture(funded);
      await fx.credits.connect(fx.account).approveSpender(fx.spender.address, UNLIMITED);
      await fx.credits.connect(fx.spender).lock(fx.account.address, 5n);
      await fx.credits.connect(fx.spender).release(fx.account.address, 5n);
      expect(await fx.credits.allowance(fx.account.address, fx.spender.address)).to.equal(UNLIMITED);
      expect(await fx.credits.balanceOf(fx.account.address)).to.equal(1_000_000n);
    });

    it("a release that would pass the top of the allowance saturates at unlimited", async function () {
      const fx = await loadFixture(funded);
      await fx.credits.connect(fx.account).approveSpender(fx.spender.address, UNLIMITED - 1n);
      await fx.credits.connect(fx.spender).lock(fx.account.address, 5n);
      // The account raises it again while 5 are locked; giving those back would pass the top.
      await fx.credits.connect(fx.account).approveSpender(fx.spender.address, UNLIMITED - 1n);
      await fx.credits.connect(fx.spender).release(fx.account.address, 5n);
      expect(await fx.credits.allowance(fx.account.address, fx.spender.address)).to.equal(UNLIMITED);
    });

    it("a removed spender can do nothing more; its accounts reclaim their locks", async function () {
      const fx = await loadFixture(funded);
      await fx.credits.connect(fx.spender).lock(fx.account.address, 300_000n);
      await expect(fx.credits.connect(fx.account).reclaimLocked(fx.spender.address))
        .to.be.revertedWithCustomError(fx.credits, "CreditsSpenderStillRegistered")
        .withArgs(fx.spender.address);
      await fx.credits.connect(fx.admin).removeSpender(fx.spender.address);
      await expect(
        fx.credits.connect(fx.spender).consumeLocked(fx.account.address, 1n, fx.outsider.address, 1n),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsUnknownSpender");
      await expect(fx.credits.connect(fx.account).reclaimLocked(fx.spender.address))
        .to.emit(fx.credits, "CreditsReleased")
        .withArgs(fx.account.address, fx.spender.address, 300_000n);
      expect(await fx.credits.balanceOf(fx.account.address)).to.equal(1_000_000n);
      await expect(
        fx.credits.connect(fx.account).reclaimLocked(fx.spender.address),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsZeroAmount");
    });
  });

  describe("approval by signature", function () {
    async function approval(fx: Awaited<ReturnType<typeof base>>, allowance: bigint, deadlineIn = 3600n) {
      const deadline = BigInt(await time.latest()) + deadlineIn;
      const nonce = await fx.credits.nonces(fx.account.address);
      const value = { account: fx.account.address, spender: fx.spender.address, allowance, nonce, deadline };
      return { value, signature: await signSpenderApproval(fx.account, fx.credits, value) };
    }

    it("sets the allowance from the account's EIP-712 signature, submitted by anyone, once", async function () {
      const fx = await loadFixture(funded);
      const { value, signature } = await approval(fx, 123n);
      // The contract's type hash is the protocol's field list (what wallets sign).
      expect(await fx.credits.SPENDER_APPROVAL_TYPEHASH()).to.equal(
        keccak256(toUtf8Bytes(encodeType("SpenderApproval", SPENDER_APPROVAL_TYPES.SpenderApproval))),
      );
      expect(
        await fx.credits.spenderApprovalDigest(
          value.account,
          value.spender,
          123n,
          value.nonce,
          value.deadline,
        ),
      ).to.equal(
        ethers.TypedDataEncoder.hash(
          { ...creditsDomain(31337n, await fx.credits.getAddress()) },
          SPENDER_APPROVAL_TYPES,
          value,
        ),
      );
      const submit = () =>
        fx.credits
          .connect(fx.outsider)
          .approveSpenderWithSig(value.account, value.spender, value.allowance, value.deadline, signature);
      await expect(submit())
        .to.emit(fx.credits, "SpenderApproved")
        .withArgs(fx.account.address, fx.spender.address, 123n)
        .and.to.emit(fx.credits, "NonceUsed")
        .withArgs(fx.account.address, 0n);
      expect(await fx.credits.allowance(fx.account.address, fx.spender.address)).to.equal(123n);
      // Replayed: the nonce moved on, so the digest no longer matches the signature.
      await expect(submit()).to.be.revertedWithCustomError(fx.credits, "CreditsInvalidSignature");
    });

    it("refuses an expired, forged, cancelled or altered approval", async function () {
      const fx = await loadFixture(funded);
      const expired = await approval(fx, 5n, 10n);
      await time.increase(11);
      await expect(
        fx.credits.approveSpenderWithSig(
          expired.value.account,
          expired.value.spender,
          5n,
          expired.value.deadline,
          expired.signature,
        ),
      )
        .to.be.revertedWithCustomError(fx.credits, "CreditsApprovalExpired")
        .withArgs(expired.value.deadline);

      const good = await approval(fx, 5n);
      // A different allowance than signed.
      await expect(
        fx.credits.approveSpenderWithSig(
          good.value.account,
          good.value.spender,
          6n,
          good.value.deadline,
          good.signature,
        ),
      )
        .to.be.revertedWithCustomError(fx.credits, "CreditsInvalidSignature")
        .withArgs(fx.account.address);
      // Signed by someone else.
      const forged = await signSpenderApproval(fx.outsider, fx.credits, good.value);
      await expect(
        fx.credits.approveSpenderWithSig(
          good.value.account,
          good.value.spender,
          5n,
          good.value.deadline,
          forged,
        ),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsInvalidSignature");
      // Cancelled by the account before anyone submitted it.
      await expect(fx.credits.connect(fx.account).useNonce())
        .to.emit(fx.credits, "NonceUsed")
        .withArgs(fx.account.address, 0n);
      await expect(
        fx.credits.approveSpenderWithSig(
          good.value.account,
          good.value.spender,
          5n,
          good.value.deadline,
          good.signature,
        ),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsInvalidSignature");
      // For an unregistered spender, even correctly signed.
      const deadline = BigInt(await time.latest()) + 3600n;
      const value = {
        account: fx.account.address,
        spender: fx.spender2.address,
        allowance: 1n,
        nonce: 1n,
        deadline,
      };
      const sig = await signSpenderApproval(fx.account, fx.credits, value);
      await expect(
        fx.credits.approveSpenderWithSig(value.account, value.spender, 1n, deadline, sig),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsUnknownSpender");
    });

    it("accepts a smart wallet's ERC-1271 approval, and refuses it when the wallet says no", async function () {
      const fx = await loadFixture(funded);
      const wallet = (await ethers.deployContract("ERC1271WalletMock", [
        fx.account.address,
      ])) as unknown as ERC1271WalletMock;
      const walletAddr = await wallet.getAddress();
      const deadline = BigInt(await time.latest()) + 3600n;
      const value = { account: walletAddr, spender: fx.spender.address, allowance: 77n, nonce: 0n, deadline };
      const sig = await signSpenderApproval(fx.account, fx.credits, value);
      await wallet.setRefuseAll(true);
      await expect(
        fx.credits.approveSpenderWithSig(walletAddr, fx.spender.address, 77n, deadline, sig),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsInvalidSignature");
      await wallet.setRefuseAll(false);
      await fx.credits.approveSpenderWithSig(walletAddr, fx.spender.address, 77n, deadline, sig);
      expect(await fx.credits.allowance(walletAddr, fx.spender.address)).to.equal(77n);
      expect(await fx.credits.nonces(walletAddr)).to.equal(1n);
    });
  });

  describe("governance", function () {
    it("replaces the price source; only governance; never zero", async function () {
      const fx = await loadFixture(base);
      const other = (await ethers.deployContract("GovernedPrice", [
        fx.admin.address,
        USD("0.10"),
      ])) as unknown as GovernedPrice;
      await expect(
        fx.credits.connect(fx.outsider).setPriceSource(await other.getAddress()),
      ).to.be.revertedWithCustomError(fx.credits, "AccessControlUnauthorizedAccount");
      await expect(fx.credits.connect(fx.admin).setPriceSource(ZeroAddress)).to.be.revertedWithCustomError(
        fx.credits,
        "CreditsZeroAddress",
      );
      await expect(fx.credits.connect(fx.admin).setPriceSource(await other.getAddress()))
        .to.emit(fx.credits, "PriceSourceChanged")
        .withArgs(await fx.price.getAddress(), await other.getAddress());
      expect(await fx.credits.priceSource()).to.equal(await other.getAddress());
      expect(await fx.credits.quote(MESH(1))).to.equal(100_000n);
      expect(await fx.credits.token()).to.equal(await fx.token.getAddress());
    });

    it("refuses zero constructor arguments", async function () {
      const fx = await loadFixture(base);
      const t = await fx.token.getAddress();
      const p = await fx.price.getAddress();
      for (const args of [
        [ZeroAddress, fx.admin.address, p],
        [t, ZeroAddress, p],
        [t, fx.admin.address, ZeroAddress],
      ]) {
        await expect(ethers.deployContract("UsageCredits", args)).to.be.revertedWithCustomError(
          fx.credits,
          "CreditsZeroAddress",
        );
      }
    });
  });
});
