/** The app's frame: navigation, the wallet, the oracle banner, and the pages (routes in the fragment). */
import { HashRouter, NavLink, Route, Routes } from "react-router-dom";

import { WalletBar } from "./components/Wallet";
import { useApp } from "./lib/context";
import { useOracleHealth } from "./lib/useData";
import { Device } from "./pages/Device";
import { Epochs } from "./pages/Epochs";
import { Hex } from "./pages/Hex";
import { Network } from "./pages/Network";
import { Overview } from "./pages/Overview";
import { Owner } from "./pages/Owner";
import { Stake } from "./pages/Stake";

function OracleBanner() {
  const health = useOracleHealth();
  const { oracle } = useApp();
  if (!health.isError) return null;
  return (
    <p role="alert" className="banner" data-testid="oracle-down">
      The oracle at {oracle.baseUrl} cannot be reached: figures from the chain are live, rewards history and
      proofs are unavailable until it answers.
    </p>
  );
}

export function App() {
  return (
    <HashRouter>
      <header>
        <nav aria-label="Main">
          <strong>Hexmesh</strong>
          <NavLink to="/" end>
            Overview
          </NavLink>
          <NavLink to="/owner">My rewards</NavLink>
          <NavLink to="/stake">Stake</NavLink>
          <NavLink to="/epochs">Epochs</NavLink>
          <NavLink to="/network">Network</NavLink>
        </nav>
        <WalletBar />
      </header>
      <OracleBanner />
      <main>
        <Routes>
          <Route path="/" element={<Overview />} />
          <Route path="/owner" element={<Owner />} />
          <Route path="/owner/:address" element={<Owner />} />
          <Route path="/stake" element={<Stake />} />
          <Route path="/epochs" element={<Epochs />} />
          <Route path="/device/:id" element={<Device />} />
          <Route path="/hex/:hex" element={<Hex />} />
          <Route path="/network" element={<Network />} />
          <Route path="*" element={<p>No such page.</p>} />
        </Routes>
      </main>
    </HashRouter>
  );
}
